using Npgsql;

namespace EventShop.Testing;

/// <summary>Checks straight in the services' databases: the invariants money, points and messages must keep whatever happened.</summary>
public static class Invariants
{
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

    /// <summary>(order, entry type) pairs that appear more than once in the money ledger: must be 0.</summary>
    public static Task<long> DuplicatedLedgerEntriesAsync(EventShopSystem system) =>
        ScalarAsync(system.ConnectionString("Accounts"),
            "SELECT count(*) FROM (SELECT 1 FROM accounts.ledger_entries GROUP BY \"OrderId\", \"Type\" HAVING count(*) > 1) d");
}
