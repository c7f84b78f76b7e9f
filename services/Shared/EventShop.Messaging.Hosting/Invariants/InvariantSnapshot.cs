using System.Data;
using System.Globalization;
using EventShop.Messaging.Hosting.Redelivery;
using EventShop.Messaging.Outbox;
using EventShop.ServiceDefaults;
using EventShop.ServiceDefaults.Invariants;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace EventShop.Messaging.Hosting.Invariants;

/// <summary>
/// A service's answer to the continuous invariant check (ADR 0013), read in one repeatable-read, read-only transaction: a
/// balance and its ledger are compared as of one instant, never half-way through a unit of work.
/// </summary>
public sealed class InvariantSnapshot : IAsyncDisposable
{
    /// <summary>How many offending keys a check's detail names; the count says how many there are in all.</summary>
    public const int Examples = 5;

    /// <summary>Room for the ids of every order in flight at a high rate (about 40 bytes each).</summary>
    const int MaxRequestBytes = 4 * 1024 * 1024;

    readonly NpgsqlConnection _connection;
    readonly IDbContextTransaction _transaction;
    readonly List<InvariantCheck> _checks = [];
    readonly Dictionary<string, Dictionary<string, decimal>> _totals = new(StringComparer.Ordinal);

    InvariantSnapshot(NpgsqlConnection connection, IDbContextTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    /// <summary>
    /// Begins the snapshot. Its first round trip is where a pooled connection whose server side is gone (terminated backend,
    /// failover: 57P01) is found; nothing has been read yet, so it begins again on a new connection, and one dropped
    /// connection does not answer 500 and turn the operator's invariants red for a run.
    /// </summary>
    public static async Task<InvariantSnapshot> BeginAsync(DbContext db, CancellationToken cancellationToken) =>
        await TransientDatabaseRetry.Pipeline.ExecuteAsync(async token =>
        {
            var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, token);
            try
            {
                var connection = (NpgsqlConnection)db.Database.GetDbConnection();
                await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection))
                    await readOnly.ExecuteNonQueryAsync(token);
                return new InvariantSnapshot(connection, transaction);
            }
            catch
            {
                await transaction.DisposeAsync();
                await db.Database.CloseConnectionAsync();
                throw;
            }
        }, cancellationToken);

    /// <summary>Reads and validates the gateway's request: the cut is required, the unsettled list may be empty.</summary>
    public static async Task<(InvariantsRequest? Request, ValidationProblem? Problem)> ReadRequestAsync(HttpRequest request)
    {
        var (body, problem) = await JsonBody.ReadAsync<InvariantsRequest>(request, MaxRequestBytes);
        if (problem is not null)
            return (null, problem);
        var validation = new Validation().Require(body!.SettledBefore is not null, "settledBefore", "is required");
        return validation.IsValid ? (body, null) : (null, validation.ToProblem());
    }

    public void Check(string name, bool ok, string detail) => _checks.Add(new InvariantCheck(name, ok, detail));

    /// <summary>A check that holds when <paramref name="sql"/> finds no rows; each row is (key, description).</summary>
    public async Task CheckNoneAsync(string name, string holds, string fails, string sql, CancellationToken cancellationToken,
        params object[] parameters)
    {
        var rows = await RowsAsync(sql, parameters, cancellationToken);
        Check(name, rows.Count == 0, rows.Count == 0 ? holds : Describe(fails, rows.Select(r => $"{r.Key} ({r.Value})").ToList()));
    }

    /// <summary>Rows of (key, value) for the gateway to compare with another service's, under <paramref name="name"/>.</summary>
    public async Task TotalsAsync(string name, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        var totals = new Dictionary<string, decimal>(StringComparer.Ordinal);
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            totals[reader.GetString(0)] = reader.GetDecimal(1);
        _totals[name] = totals;
    }

    public async Task<Guid[]> OrderIdsAsync(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        var ids = new List<Guid>();
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            ids.Add(reader.GetGuid(0));
        return [.. ids];
    }

    public async Task<decimal> ScalarAsync(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        return Convert.ToDecimal(await command.ExecuteScalarAsync(cancellationToken) ?? 0m, CultureInfo.InvariantCulture);
    }

    /// <summary>Outbox rows the relay has given up on for now (<see cref="OutboxRelayOptions.MaxAttempts"/> failed attempts).</summary>
    public async Task CheckNothingParkedAsync(string service, int maxAttempts, CancellationToken cancellationToken)
    {
        var parked = await ScalarAsync("""SELECT count(*) FROM messaging.outbox_messages WHERE "Attempts" >= $1""", cancellationToken, maxAttempts);
        Check($"{service}.outbox-nothing-parked", parked == 0, parked == 0
            ? "no outbox row is parked"
            : $"{parked} outbox row(s) parked after {maxAttempts} failed publishes; GET /api/failures lists them, the relay retries them");
    }

    /// <summary>
    /// Messages in the service's error queues that no automatic redelivery will take (ADR 0008 point 9), as the redeliverer
    /// last saw them (every few seconds); those still within their redelivery budget are not parked.
    /// </summary>
    public void CheckNoMessageForAnOperator(string service, ErrorQueueCensus errorQueues)
    {
        var parked = errorQueues.ForAnOperator;
        Check($"{service}.error-queues-nothing-parked", parked.Count == 0, parked.Count == 0
            ? "no message waits for an operator in an error queue"
            : Describe("message(s) wait for an operator (GET /api/failures) after a failure that does not pass by itself or their redeliveries",
                [.. parked.Select(q => $"{q.Key} ({q.Value})")]));
    }

    public InvariantReport Report(Guid[]? unsettled = null) => new([.. _checks], _totals, unsettled);

    public static string Describe(string fails, IReadOnlyCollection<string> examples) =>
        $"{fails}: {string.Join(", ", examples.Take(Examples))}{(examples.Count > Examples ? ", ..." : "")}";

    async Task<List<KeyValuePair<string, string>>> RowsAsync(string sql, object[] parameters, CancellationToken cancellationToken)
    {
        var rows = new List<KeyValuePair<string, string>>();
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(new(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!, Convert.ToString(reader.GetValue(1), CultureInfo.InvariantCulture)!));
        return rows;
    }

    NpgsqlCommand Command(string sql, object[] parameters)
    {
        var command = new NpgsqlCommand(sql, _connection, (NpgsqlTransaction)_transaction.GetDbTransaction());
        foreach (var parameter in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return command;
    }

    public async ValueTask DisposeAsync() => await _transaction.DisposeAsync();
}
