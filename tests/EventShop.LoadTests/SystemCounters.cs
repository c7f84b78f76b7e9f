using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace EventShop.LoadTests;

/// <summary>Broker and database work done so far: RabbitMQ's vhost message stats and PostgreSQL's committed transactions per database.</summary>
public sealed record CounterSnapshot(long Published, long Delivered, IReadOnlyDictionary<string, long> Commits)
{
    public long TotalCommits => Commits.Values.Sum();
}

public sealed record WorkPerOrder(int Orders, double MessagesPublished, double MessagesDelivered, double Transactions,
    IReadOnlyDictionary<string, double> TransactionsByDatabase);

public sealed class SystemCounters(BenchOptions options)
{
    /// <summary>The management plugin refreshes its statistics every 5 s (collect_statistics_interval), PostgreSQL backends flush theirs within 1 s.</summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(6);

    public async Task<CounterSnapshot> ReadAsync()
    {
        using var management = LimitProbes.ManagementClient(options);
        var vhost = await management.GetFromJsonAsync<JsonElement>($"/api/vhosts/{Uri.EscapeDataString(options.VirtualHost)}");
        long Stat(string name) =>
            vhost.TryGetProperty("message_stats", out var stats) && stats.TryGetProperty(name, out var value) ? value.GetInt64() : 0;

        var commits = new Dictionary<string, long>();
        await using var connection = new NpgsqlConnection(options.PostgresConnectionString("postgres", 2));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY($1)", connection);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = options.Databases });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            commits[reader.GetString(0)] = reader.GetInt64(1);

        return new CounterSnapshot(Stat("publish"), Stat("deliver_get"), commits);
    }

    public static WorkPerOrder PerOrder(CounterSnapshot before, CounterSnapshot after, int orders)
    {
        double Per(long delta) => orders == 0 ? double.NaN : (double)delta / orders;
        var byDatabase = after.Commits.ToDictionary(x => x.Key, x => Per(x.Value - before.Commits.GetValueOrDefault(x.Key)));
        return new WorkPerOrder(orders, Per(after.Published - before.Published), Per(after.Delivered - before.Delivered),
            Per(after.TotalCommits - before.TotalCommits), byDatabase);
    }
}
