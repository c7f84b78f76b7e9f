using System.Diagnostics;
using System.Net.Http.Json;
using Npgsql;
using Xunit;

namespace EventShop.Testing;

/// <summary>Checks straight in the services' databases: the invariants money, points and messages must keep whatever happened.</summary>
public static class Invariants
{
    /// <summary>The first column of the first row <paramref name="sql"/> returns on an open connection.</summary>
    public static async Task<object?> ScalarAsync(this NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>Rows still waiting in the outboxes of all four services: 0 once everything has settled.</summary>
    public static async Task<long> PendingOutboxMessagesAsync(EventShopSystem system)
    {
        long total = 0;
        foreach (var service in new[] { "Orders", "Accounts", "Points", "Sagas" })
            total += await ScalarAsync(system.ConnectionString(service), "SELECT count(*) FROM messaging.outbox_messages");
        return total;
    }

    /// <summary>
    /// Orders whose money ledger contradicts itself: must be 0. A step moved money after its undo's void marker (a Debit
    /// beside a DebitVoided, a Credit beside a CreditVoided), or an undo that did not return exactly what its step moved
    /// (ADR 0004). A duplicated (order, type) pair cannot be counted here: the unique index on it refuses the second row.
    /// </summary>
    public static Task<long> ContradictoryLedgerEntriesAsync(EventShopSystem system) =>
        ScalarAsync(system.ConnectionString("Accounts"), ContradictoryLedgerEntriesSql);

    public const string ContradictoryLedgerEntriesSql = """
        SELECT count(*) FROM (
            SELECT "OrderId" FROM accounts.ledger_entries GROUP BY "OrderId"
            HAVING (bool_or("Type" = 'Debit') AND bool_or("Type" = 'DebitVoided'))
                OR (bool_or("Type" = 'Credit') AND bool_or("Type" = 'CreditVoided'))
                OR (bool_or("Type" = 'Refund') AND bool_or("Type" = 'Debit')
                    AND abs(sum("Amount") FILTER (WHERE "Type" = 'Refund')) <> abs(sum("Amount") FILTER (WHERE "Type" = 'Debit')))
                OR (bool_or("Type" = 'CreditReversal') AND bool_or("Type" = 'Credit')
                    AND abs(sum("Amount") FILTER (WHERE "Type" = 'CreditReversal')) <> abs(sum("Amount") FILTER (WHERE "Type" = 'Credit')))
        ) contradictions
        """;

    /// <summary>
    /// The verdict of <c>GET /api/invariants</c> from a run that started after this call, or after <paramref name="after"/>
    /// (the gateway checks every second in tests), so what a test did before it is included.
    /// </summary>
    public static async Task<InvariantVerdictView> FreshVerdictAsync(EventShopSystem system, TimeSpan? timeout = null, DateTimeOffset? after = null)
    {
        var asked = after ?? DateTimeOffset.UtcNow;
        using var client = system.Operator();
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var verdict = await client.GetJsonAsync<InvariantVerdictView>("/api/invariants");
            if (verdict.CheckedAt > asked)
                return verdict;
            Assert.True(waited.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)), $"No invariant check ran after {asked:O}; the latest ran at {verdict.CheckedAt:O}");
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>Asserts that the first fresh verdict of <c>GET /api/invariants</c> is ok, naming each failed check and why.</summary>
    public static async Task AssertInvariantsHoldAsync(EventShopSystem system)
    {
        var verdict = await FreshVerdictAsync(system);
        Assert.True(verdict.Ok, "GET /api/invariants: " + string.Join("; ", verdict.Checks.Where(x => !x.Ok).Select(x => $"{x.Name}: {x.Detail}")));
    }
}

public sealed record InvariantCheckView(string Name, bool Ok, string Detail);

public sealed record InvariantVerdictView(DateTimeOffset CheckedAt, bool Ok, InvariantCheckView[] Checks);
