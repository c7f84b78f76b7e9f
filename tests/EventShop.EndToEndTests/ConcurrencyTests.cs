using EventShop.Testing;

namespace EventShop.EndToEndTests;

[Collection(SystemCollection.Name)]
public sealed class ConcurrencyTests(EventShopSystem system)
{
    readonly ShopClient _shop = new(system);

    [Fact]
    public async Task When_40_orders_of_5_race_for_100_Should_complete_exactly_20_and_never_overdraw()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(customerPrefix: "racer");

        var orderIds = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => _shop.SubmitOrderAsync(customer, merchant, unitPrice: 5.00m)));
        var orders = await Task.WhenAll(orderIds.Select(id => _shop.WaitForOutcomeAsync(id)));

        Assert.Equal(20, orders.Count(o => o.Status == "Completed"));
        Assert.Equal(20, orders.Count(o => o.Status == "Cancelled"));
        Assert.All(orders.Where(o => o.Status == "Cancelled"), o => Assert.Contains("InsufficientFunds", o.FailureReason));
        Assert.Equal(0.00m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(100.00m, (await _shop.AccountAsync(merchant)).Balance);
        Assert.Equal(100, (await _shop.PointsAsync(customer)).Balance);
        Assert.Equal(20, (await _shop.LedgerAsync(customer)).Count(e => e.Type == "Debit"));
    }
}
