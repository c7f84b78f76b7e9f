using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventShop.Messaging.Faults;

/// <summary>
/// The fault rules of this service, in its own database (<c>messaging.fault_rules</c>), read by every replica. Each replica
/// keeps the active rules for <see cref="FaultsOptions.CacheDuration"/>, so a message costs a lookup in memory, and a
/// database round trip only when a rule matches: firing is one UPDATE that counts the firing only while
/// <c>fired &lt; times</c>, so <c>times</c> holds across replicas and restarts.
/// The table is created when fault injection is enabled, not by the migrations: a production database never has it.
/// </summary>
public sealed class FaultRules(IServiceScopeFactory scopeFactory, Type dbContextType, IOptions<FaultsOptions> options, TimeProvider clock) : IDisposable
{
    const string Columns = "id, service, message_type, action, crash_point, delay_ms, customer_id, times, fired, created_at, last_fired_at";

    static readonly ConcurrentDictionary<Type, Func<object, string?>?> CustomerReaders = new();

    readonly TimeSpan _cacheDuration = options.Value.CacheDuration;
    readonly SemaphoreSlim _refresh = new(1, 1);
    volatile Snapshot? _snapshot;
    volatile bool _tableReady;

    sealed record Snapshot(FaultRule[] Active, long ReadAt);

    /// <summary>
    /// The rule that fires for this message, if any: a rule for <paramref name="messageType"/> (and the message's customer,
    /// when it names one) that has not fired <c>times</c> yet. Its firing is counted before it is returned.
    /// </summary>
    public ValueTask<FaultRule?> FireAsync(string messageType, object message, CancellationToken cancellationToken)
    {
        // The path of nearly every message: rules cached, none for this type. Synchronous, allocates nothing.
        var snapshot = _snapshot;
        if (snapshot is not null && Stopwatch.GetElapsedTime(snapshot.ReadAt) < _cacheDuration && !AnyFor(snapshot.Active, messageType))
            return default;
        return FireSlowAsync(messageType, message, cancellationToken);
    }

    static bool AnyFor(FaultRule[] rules, string messageType)
    {
        foreach (var rule in rules)
        {
            if (string.Equals(rule.MessageType, messageType, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    async ValueTask<FaultRule?> FireSlowAsync(string messageType, object message, CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (snapshot is null || Stopwatch.GetElapsedTime(snapshot.ReadAt) >= _cacheDuration)
            snapshot = await RefreshAsync(cancellationToken);
        if (snapshot.Active.Length == 0)
            return null;

        string? customer = null;
        var customerRead = false;
        foreach (var rule in snapshot.Active)
        {
            if (!string.Equals(rule.MessageType, messageType, StringComparison.Ordinal))
                continue;
            if (rule.CustomerId is not null)
            {
                if (!customerRead)
                {
                    customer = CustomerOf(message);
                    customerRead = true;
                }
                if (!string.Equals(rule.CustomerId, customer, StringComparison.Ordinal))
                    continue;
            }

            if (await CountFiringAsync(rule.Id, cancellationToken) is { } fired)
                return rule with { Fired = fired };
            // Used up (perhaps by another replica): forget it until the next read.
            _snapshot = snapshot with { Active = [.. snapshot.Active.Where(r => r.Id != rule.Id)] };
        }

        return null;
    }

    /// <summary>The customer a message is about: its <c>CustomerId</c> property, or null when the message type has none.</summary>
    public static string? CustomerOf(object message) =>
        CustomerReaders.GetOrAdd(message.GetType(), type =>
            type.GetProperty("CustomerId", BindingFlags.Public | BindingFlags.Instance) is { PropertyType: var t } property && t == typeof(string)
                ? m => (string?)property.GetValue(m)
                : null) is { } read ? read(message) : null;

    /// <summary>Whether messages of <paramref name="type"/> name the customer, so that a rule may be limited to one.</summary>
    public static bool CarriesCustomer(Type type) =>
        type.GetProperty("CustomerId", BindingFlags.Public | BindingFlags.Instance)?.PropertyType == typeof(string);

    public async Task<FaultRule> AddAsync(FaultRule rule, CancellationToken cancellationToken)
    {
        var added = await QueryAsync($"""
            INSERT INTO messaging.fault_rules (id, service, message_type, action, crash_point, delay_ms, customer_id, times, fired, created_at)
            VALUES (@id, @service, @messageType, @action, @crashPoint, @delayMs, @customerId, @times, 0, @createdAt)
            RETURNING {Columns}
            """, command =>
            {
                command.Parameters.AddWithValue("id", rule.Id);
                command.Parameters.AddWithValue("service", rule.Service);
                command.Parameters.AddWithValue("messageType", rule.MessageType);
                command.Parameters.AddWithValue("action", rule.Action);
                command.Parameters.AddWithValue("crashPoint", (object?)rule.CrashPoint ?? DBNull.Value);
                command.Parameters.AddWithValue("delayMs", (object?)rule.DelayMs ?? DBNull.Value);
                command.Parameters.AddWithValue("customerId", (object?)rule.CustomerId ?? DBNull.Value);
                command.Parameters.AddWithValue("times", rule.Times);
                command.Parameters.AddWithValue("createdAt", clock.GetUtcNow());
            }, cancellationToken);
        _snapshot = null;
        return added.Single();
    }

    /// <summary>Every rule of this service, used up or not, oldest first.</summary>
    public Task<List<FaultRule>> ListAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM messaging.fault_rules ORDER BY created_at, id", _ => { }, cancellationToken);

    public async Task<FaultRule?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {Columns} FROM messaging.fault_rules WHERE id = @id",
            command => command.Parameters.AddWithValue("id", id), cancellationToken)).SingleOrDefault();

    public async Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        var deleted = await QueryAsync($"DELETE FROM messaging.fault_rules WHERE id = @id RETURNING {Columns}",
            command => command.Parameters.AddWithValue("id", id), cancellationToken);
        _snapshot = null;
        return deleted.Count == 1;
    }

    public void Dispose() => _refresh.Dispose();

    async Task<Snapshot> RefreshAsync(CancellationToken cancellationToken)
    {
        // One reader at a time; the others use what was read last, unless nothing was read yet.
        if (!await _refresh.WaitAsync(_snapshot is null ? Timeout.InfiniteTimeSpan : TimeSpan.Zero, cancellationToken))
            return _snapshot!;
        try
        {
            if (_snapshot is { } fresh && Stopwatch.GetElapsedTime(fresh.ReadAt) < _cacheDuration)
                return fresh;
            var active = await QueryAsync($"SELECT {Columns} FROM messaging.fault_rules WHERE fired < times ORDER BY created_at, id",
                _ => { }, cancellationToken);
            var snapshot = new Snapshot([.. active], Stopwatch.GetTimestamp());
            _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }

    async Task<int?> CountFiringAsync(Guid id, CancellationToken cancellationToken)
    {
        var fired = await QueryAsync($"""
            UPDATE messaging.fault_rules SET fired = fired + 1, last_fired_at = now()
            WHERE id = @id AND fired < times
            RETURNING {Columns}
            """, command => command.Parameters.AddWithValue("id", id), cancellationToken);
        return fired.Count == 1 ? fired[0].Fired : null;
    }

    async Task<List<FaultRule>> QueryAsync(string sql, Action<NpgsqlCommand> parameters, CancellationToken cancellationToken)
    {
        // Outside any unit of work: a firing is counted even when the handler's transaction then fails or the process dies.
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = (DbContext)scope.ServiceProvider.GetRequiredService(dbContextType);
        var connection = (NpgsqlConnection)dbContext.Database.GetDbConnection();
        await dbContext.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (!_tableReady)
            {
                await EnsureTableAsync(connection, cancellationToken);
                _tableReady = true;
            }
            await using var command = new NpgsqlCommand(sql, connection);
            parameters(command);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rules = new List<FaultRule>();
            while (await reader.ReadAsync(cancellationToken))
            {
                rules.Add(new FaultRule(
                    reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetInt32(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6),
                    reader.GetInt32(7), reader.GetInt32(8),
                    reader.GetFieldValue<DateTimeOffset>(9),
                    reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10)));
            }
            return rules;
        }
        finally
        {
            await dbContext.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Creates the rules table unless it exists. The service's owner role calls it after the migrations (ADR 0020): the
    /// runtime role has no DDL, and only finds the table there (a CREATE it may not run, not even "IF NOT EXISTS").
    /// </summary>
    public static async Task EnsureTableAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('messaging.fault_rules') IS NOT NULL", connection))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is true)
                return;
        }
        await using var command = new NpgsqlCommand("""
            CREATE SCHEMA IF NOT EXISTS messaging;
            CREATE TABLE IF NOT EXISTS messaging.fault_rules (
                id uuid PRIMARY KEY,
                service text NOT NULL,
                message_type text NOT NULL,
                action text NOT NULL,
                crash_point text NULL,
                delay_ms integer NULL,
                customer_id text NULL,
                times integer NOT NULL CHECK (times > 0),
                fired integer NOT NULL DEFAULT 0,
                created_at timestamptz NOT NULL,
                last_fired_at timestamptz NULL);
            """, connection);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
        {
            // Another replica created it at the same moment.
        }
    }
}
