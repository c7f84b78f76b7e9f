using EventShop.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace EventShop.EndToEndTests;

/// <summary>Crashes and outages in the middle of real traffic: nothing may be lost, doubled or left hanging.</summary>
[Collection(SystemCollection.Name)]
public sealed class FaultToleranceTests(EventShopSystem system, ITestOutputHelper output)
{
    readonly ShopClient _shop = new(system);

    [Theory]
    [InlineData("orders", 3)]
    [InlineData("accounts", 3)]
    [InlineData("points", 3)]
    [InlineData("sagas", 1)]
    [InlineData("gateway", 3)]
    [InlineData("sagas", 3)]
    public async Task When_a_service_is_killed_mid_batch_Should_settle_every_order_and_conserve_money(string victim, int kills)
    {
        var batch = new OrderBatch(system, customerCount: 3, customerBalance: 100m, prefix: "crash");
        await batch.OpenAccountsAsync();

        // Orders keep arriving while the victim dies and comes back: the kills land on orders in every stage of the saga.
        await batch.SubmitWhileAsync(minimumOrders: 30, unitPrice: 7.50m, disruption: async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            for (var kill = 1; kill <= kills; kill++)
            {
                await system.KillAsync(victim);
                await Task.Delay(TimeSpan.FromSeconds(1));
                await system.RestartAsync(victim);
                if (kill < kills)
                    await Task.Delay(TimeSpan.FromSeconds(2));
            }
        });

        var settledAfter = await batch.AssertSettledAsync(TimeSpan.FromSeconds(120));
        output.WriteLine($"[fault battery] {victim} killed {kills}x: {batch.Accepted} orders all terminal {settledAfter.TotalSeconds:F1} s after the last restart");
    }

    /// <summary>
    /// Every PostgreSQL backend of this system's databases terminated at once (<c>pg_terminate_backend</c>, as a failover, an
    /// operator or an idle-session timeout does), three times, 2 s apart, under load. The services' pools keep connections
    /// open between units of work (NoResetOnClose, auto-prepared statements), so each pool is full of connections whose
    /// server side is gone: the next unit of work on one fails (57P01, or a broken stream), Npgsql drops that connection and
    /// the unit of work runs again on a new one. Only this system's databases are touched: the server is shared.
    /// </summary>
    [Fact]
    public async Task When_every_database_backend_is_terminated_under_load_Should_settle_every_order_and_keep_the_books_exact()
    {
        var batch = new OrderBatch(system, customerCount: 3, customerBalance: 100m, prefix: "pgterm");
        await batch.OpenAccountsAsync();
        var terminated = new List<Dictionary<string, long>>();
        var terminatedAt = DateTimeOffset.MinValue;

        await batch.SubmitWhileAsync(minimumOrders: 30, unitPrice: 7.50m, disruption: async () =>
        {
            for (var round = 0; round < 3; round++)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                terminated.Add(await TerminateBackendsAsync());
                terminatedAt = DateTimeOffset.UtcNow;
            }
        });

        var settledAfter = await batch.AssertSettledAsync(TimeSpan.FromSeconds(120));
        output.WriteLine($"[fault battery] every backend terminated 3 times ({string.Join("; ", terminated.Select(Describe))}): " +
            $"{batch.Accepted} orders all terminal {settledAfter.TotalSeconds:F1} s after the disruption ended (as the client saw it; the last " +
            $"one ended {(batch.LastOrderEndedAt - batch.DisruptionEndedAt).TotalSeconds:F1} s after, by Orders' updatedAt; last termination " +
            $"{(batch.DisruptionEndedAt - terminatedAt).TotalSeconds:F1} s before the disruption ended)");
        // Each round found the services' pooled connections to terminate, in every database: the fault really happened.
        Assert.All(terminated, round => Assert.All(DatabasesOfThisSystem(), database => Assert.True(round.GetValueOrDefault(database) > 0,
            $"no backend of {database} to terminate: {Describe(round)}")));
        foreach (var (name, _, _) in EventShopSystem.Services)
            Assert.True(system[name].IsRunning, $"{name} died:\n{system[name].RecentOutput}");
    }

    string[] DatabasesOfThisSystem() =>
        EventShopSystem.Services.Where(s => s.Database != "").Select(s => system.DatabaseName(s.Database)).ToArray();

    static string Describe(Dictionary<string, long> round) => string.Join(", ", round.OrderBy(x => x.Key).Select(x => $"{x.Key} {x.Value}"));

    /// <summary>
    /// Terminates every backend the services hold on this system's databases, by database: the ones of their own roles
    /// (ADR 0020), not the test's (the admin role, which may terminate them, being a member of each service's roles).
    /// </summary>
    async Task<Dictionary<string, long>> TerminateBackendsAsync()
    {
        await using var connection = new NpgsqlConnection(system.Database.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT datname, count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = ANY(@databases) AND usename <> current_user GROUP BY datname
            """, connection);
        command.Parameters.AddWithValue("databases", DatabasesOfThisSystem());
        var terminated = new Dictionary<string, long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            terminated[reader.GetString(0)] = reader.GetInt64(1);
        return terminated;
    }

    [Fact]
    public async Task When_points_is_down_past_the_step_timeout_Should_compensate_and_cancel()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(50m, "slow");

        await system.KillAsync("points");
        Guid orderId;
        try
        {
            orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 20m);
            await AssertEventuallyAsync(async () => (await _shop.FindSagaAsync(orderId))?.State == "ReversingPoints",
                "the accrual step did not time out into compensation");
        }
        finally
        {
            await system.RestartAsync("points");
        }

        var order = await _shop.WaitForOutcomeAsync(orderId);
        Assert.Equal("Cancelled", order.Status);
        Assert.Equal("Points accrual timed out", order.FailureReason);
        Assert.Equal(50m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(0m, (await _shop.AccountAsync(merchant)).Balance);
        // The accrual that was queued while Points was down is applied late and then reversed, or voided: either way no points.
        Assert.Equal(0, (await _shop.PointsAsync(customer)).Balance);
        var history = (await _shop.SagaAsync(orderId)).History!.Select(h => h.ToState).ToArray();
        Assert.Equal(["Debiting", "Crediting", "Accruing", "ReversingPoints", "ReversingCredit", "Refunding", "Cancelled"], history);

        // The late PointsAccrued (from the accrual queued while Points was down) was acknowledged and ignored, not parked.
        await Task.Delay(TimeSpan.FromSeconds(2));
        using var management = TestInfrastructure.ManagementClient(system.Broker);
        var queues = await management.GetStringAsync($"api/queues/{Uri.EscapeDataString(system.VirtualHost)}?columns=name");
        Assert.DoesNotContain("order-state_skipped", queues, StringComparison.Ordinal);
        await system.AssertSettledAsync();
    }

    static async Task AssertEventuallyAsync(Func<Task<bool>> condition, string because, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, because);
            await Task.Delay(250);
        }
    }
}
