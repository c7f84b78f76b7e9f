using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// Hops with no deadline of their own (ADR 0008): a message lost where nobody looks (here purged from its queue while its
/// consumer was down, as if it sat in an error queue) must not leave the order Pending for good.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class SelfHealingTests(EventShopSystem system)
{
    readonly ShopClient _shop = new(system);

    async Task PurgeAsync(string queue)
    {
        using var management = TestInfrastructure.ManagementClient(system.Broker);
        (await management.DeleteAsync($"api/queues/{Uri.EscapeDataString(system.VirtualHost)}/{queue}/contents")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task When_an_OrderSubmitted_is_lost_before_the_saga_saw_it_Should_still_complete_the_order()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(50m, "lost-submit");

        await system.KillAsync("sagas");
        Guid orderId;
        try
        {
            orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 20m);
            await Task.Delay(TimeSpan.FromSeconds(1)); // the relay has published it into order-state by now
            await PurgeAsync("order-state");
        }
        finally
        {
            await system.RestartAsync("sagas");
        }

        var order = await _shop.WaitForOutcomeAsync(orderId, TimeSpan.FromSeconds(60));
        Assert.Equal("Completed", order.Status);
        Assert.Equal(30m, (await _shop.AccountAsync(customer)).Balance);
        await system.AssertSettledAsync();
    }

    [Fact]
    public async Task When_the_outcome_is_lost_before_Orders_saw_it_Should_still_end_the_order_as_its_saga_did()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(50m, "lost-outcome");

        // Points down holds the saga in Accruing while Orders is taken down; then the saga ends with nobody consuming its outcome.
        await system.KillAsync("points");
        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 20m);
        string sagaOutcome;
        try
        {
            await AssertEventuallyAsync(async () => (await _shop.FindSagaAsync(orderId))?.State == "Accruing", "the saga did not reach Accruing");
            await system.KillAsync("orders");
        }
        finally
        {
            await system.RestartAsync("points");
        }

        try
        {
            await AssertEventuallyAsync(async () => (await _shop.FindSagaAsync(orderId))?.State is "Completed" or "Cancelled", "the saga did not end");
            sagaOutcome = (await _shop.SagaAsync(orderId)).State;
            await Task.Delay(TimeSpan.FromSeconds(1)); // the outcome is in its queue by now
            await PurgeAsync("order-completed");
            await PurgeAsync("order-cancelled");
        }
        finally
        {
            await system.RestartAsync("orders");
        }

        var order = await _shop.WaitForOutcomeAsync(orderId, TimeSpan.FromSeconds(60));
        Assert.Equal(sagaOutcome, order.Status);
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
