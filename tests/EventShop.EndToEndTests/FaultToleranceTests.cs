using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>Crashes and outages in the middle of real traffic: nothing may be lost, doubled or left hanging.</summary>
[Collection(SystemCollection.Name)]
public sealed class FaultToleranceTests(EventShopSystem system)
{
    static readonly string[] Ended = ["Completed", "Cancelled"];

    readonly ShopClient _shop = new(system);

    [Theory]
    [InlineData("accounts")]
    [InlineData("sagas")]
    public async Task When_a_service_is_killed_mid_batch_Should_settle_every_order_and_conserve_money(string victim)
    {
        var customers = Enumerable.Range(0, 3).Select(_ => ShopClient.NewId("crash")).ToArray();
        var merchant = ShopClient.NewId("shop");
        foreach (var customer in customers)
            await _shop.CreateAccountAsync(customer, "customer", 100m);
        await _shop.CreateAccountAsync(merchant, "merchant", 0m);

        var orderIds = new List<Guid>();
        for (var i = 0; i < 30; i++)
        {
            orderIds.Add(await _shop.SubmitOrderAsync(customers[i % 3], merchant, unitPrice: 7.50m));
            if (i == 12)
                await system.KillAsync(victim);
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        await system.RestartAsync(victim);
        var orders = await Task.WhenAll(orderIds.Select(id => _shop.WaitForOutcomeAsync(id, TimeSpan.FromSeconds(120))));

        Assert.All(orders, o => Assert.Contains(o.Status, Ended));
        var completed = orders.Where(o => o.Status == "Completed").ToList();
        var balances = new List<decimal>();
        foreach (var customer in customers)
            balances.Add((await _shop.AccountAsync(customer)).Balance);
        var merchantBalance = (await _shop.AccountAsync(merchant)).Balance;

        Assert.Equal(300m, balances.Sum() + merchantBalance);
        Assert.Equal(completed.Sum(o => o.Total), merchantBalance);
        foreach (var customer in customers)
        {
            var spent = completed.Where(o => o.CustomerId == customer).Sum(o => o.Total);
            Assert.Equal(100m - spent, (await _shop.AccountAsync(customer)).Balance);
            Assert.Equal(completed.Where(o => o.CustomerId == customer).Sum(o => (long)decimal.Floor(o.Total)), (await _shop.PointsAsync(customer)).Balance);
        }

        Assert.Equal(0, await Invariants.ContradictoryLedgerEntriesAsync(system));
        await AssertEventuallyAsync(async () => await Invariants.PendingOutboxMessagesAsync(system) == 0, "outboxes did not drain");
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
