using System.Text;
using Npgsql;

namespace EventShop.Testing;

/// <summary>
/// What a test prints when orders do not settle: each stuck order's saga (its state and last transitions), every database
/// session of this system that is busy, in a transaction or waiting on a lock (with the sessions blocking it), and the
/// services' recent output. The services' logs alone could not explain a CI run where two orders stayed in Refunding while
/// Accounts' pool was exhausted: who held the connections and the order's lock is only visible in PostgreSQL.
/// </summary>
public static class StuckOrderReport
{
    public static async Task<string> DescribeAsync(EventShopSystem system, int orders = 5)
    {
        var report = new StringBuilder();
        await Section(report, "stuck orders", () => DescribeStuckOrdersAsync(system, orders));
        await Section(report, "database sessions", () => DescribeSessionsAsync(system));
        report.AppendLine(system.Diagnostics());
        return report.ToString();
    }

    static async Task Section(StringBuilder report, string title, Func<Task<string>> describe)
    {
        report.AppendLine($"===== {title} =====");
        try
        {
            report.AppendLine(await describe());
        }
        catch (Exception e)
        {
            // A report must not hide the failure it explains.
            report.AppendLine($"(could not be read: {e.GetType().Name}: {e.Message})");
        }
    }

    static async Task<string> DescribeStuckOrdersAsync(EventShopSystem system, int orders)
    {
        var stuck = new List<Guid>();
        await using (var connection = new NpgsqlConnection(system.ConnectionString("Orders")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                """SELECT "OrderId" FROM orders.orders WHERE "Status" NOT IN ('Completed', 'Cancelled') ORDER BY "CreatedAt" LIMIT $1""", connection);
            command.Parameters.AddWithValue(orders);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                stuck.Add(reader.GetGuid(0));
        }

        var shop = new ShopClient(system);
        var lines = new StringBuilder();
        foreach (var orderId in stuck)
        {
            var saga = await shop.FindSagaAsync(orderId);
            lines.AppendLine(saga is null
                ? $"{orderId}: no saga"
                : $"{orderId}: saga {saga.State} since {saga.UpdatedAt:HH:mm:ss.fff} ({saga.FailureReason}); last: " +
                  string.Join(" | ", (saga.History ?? []).TakeLast(4).Select(h => $"{h.At:HH:mm:ss.fff} {h.Event} {h.FromState}->{h.ToState}")));
        }
        return stuck.Count == 0 ? "none" : lines.ToString();
    }

    /// <summary>Sessions in this system's databases that are not simply idle, as pg_stat_activity shows them, oldest first.</summary>
    static async Task<string> DescribeSessionsAsync(EventShopSystem system)
    {
        var databases = EventShopSystem.Services.Where(s => s.Database != "").Select(s => system.DatabaseName(s.Database)).ToArray();
        await using var connection = new NpgsqlConnection(system.Database.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT pid, datname, application_name, state, coalesce(wait_event_type || ':' || wait_event, ''),
                   round(extract(epoch FROM now() - xact_start)::numeric, 1), pg_blocking_pids(pid)::text,
                   left(regexp_replace(query, '\s+', ' ', 'g'), 160)
            FROM pg_stat_activity
            WHERE datname = ANY($1) AND pid <> pg_backend_pid() AND (state <> 'idle' OR wait_event_type = 'Lock')
            ORDER BY xact_start NULLS LAST
            LIMIT 60
            """, connection);
        command.Parameters.AddWithValue(databases);
        var lines = new StringBuilder();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.AppendLine($"pid {reader.GetInt32(0)} {reader.GetString(1)} {reader.GetString(2)} {reader.GetString(3)} {reader.GetString(4)} " +
                $"xact {(reader.IsDBNull(5) ? "-" : reader.GetDecimal(5) + " s")} blocked by {reader.GetString(6)}: {reader.GetString(7)}");
        }
        return lines.Length == 0 ? "none busy" : lines.ToString();
    }
}
