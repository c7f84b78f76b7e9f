using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>Every business scenario of docs/api.md, end to end through the gateway, real broker and real databases.</summary>
[Collection(SystemCollection.Name)]
public sealed class OrderPlacementTests(EventShopSystem system)
{
    readonly ShopClient _shop = new(system);

    [Fact]
    public async Task When_every_step_succeeds_Should_move_the_total_and_accrue_points()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();

        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 12.50m, quantity: 2);
        var order = await _shop.WaitForOutcomeAsync(orderId);

        Assert.Equal("Completed", order.Status);
        Assert.Equal(25.00m, order.Total);
        Assert.Equal(25, order.PointsAccrued);
        Assert.Equal(75.00m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(25.00m, (await _shop.AccountAsync(merchant)).Balance);
        Assert.Equal(25, (await _shop.PointsAsync(customer)).Balance);

        var saga = await _shop.SagaAsync(orderId);
        Assert.Equal("Completed", saga.State);
        Assert.Equal(["Debiting", "Crediting", "Accruing", "Completed"], saga.History!.Select(h => h.ToState));
    }

    [Fact]
    public async Task When_orders_publishes_an_event_Should_land_in_the_consuming_services_own_databases()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();

        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 10m);
        await _shop.WaitForOutcomeAsync(orderId);

        // Orders -> (RabbitMQ) -> saga host: the saga row and its history are in the sagas database.
        Assert.Equal(1, await Invariants.ScalarAsync(system.ConnectionString("Sagas"),
            $"SELECT count(*) FROM sagas.order_states WHERE \"CorrelationId\" = '{orderId}' AND \"CurrentState\" = 'Completed'"));
        // saga -> (RabbitMQ) -> Accounts and Points: their ledgers, in their own databases.
        Assert.Equal(2, await Invariants.ScalarAsync(system.ConnectionString("Accounts"),
            $"SELECT count(*) FROM accounts.ledger_entries WHERE \"OrderId\" = '{orderId}' AND \"Type\" IN ('Debit', 'Credit')"));
        Assert.Equal(1, await Invariants.ScalarAsync(system.ConnectionString("Points"),
            $"SELECT count(*) FROM points.points_entries WHERE \"OrderId\" = '{orderId}' AND \"Type\" = 'Accrual'"));
    }

    [Fact]
    public async Task When_points_are_fractional_Should_accrue_the_floor_of_the_total()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();

        var order = await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 3.99m, quantity: 3));

        Assert.Equal("Completed", order.Status);
        Assert.Equal(11.97m, order.Total);
        Assert.Equal(11, (await _shop.PointsAsync(customer)).Balance);
    }

    [Fact]
    public async Task When_the_customer_cannot_pay_Should_cancel_without_moving_anything()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(customerBalance: 10m);

        var order = await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 10.01m));

        Assert.Equal("Cancelled", order.Status);
        Assert.Contains("InsufficientFunds", order.FailureReason);
        Assert.Equal("InsufficientFunds", order.FailureCode);
        Assert.Equal(10m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(0m, (await _shop.AccountAsync(merchant)).Balance);
        Assert.Equal(0, (await _shop.PointsAsync(customer)).Balance);
    }

    [Fact]
    public async Task When_the_customer_is_frozen_Should_cancel_without_moving_anything()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        await _shop.OperatorPostAsync($"/api/accounts/{customer}/freeze");

        var order = await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 5m));

        Assert.Equal("Cancelled", order.Status);
        Assert.Contains("AccountFrozen", order.FailureReason);
        Assert.Equal("AccountFrozen", order.FailureCode);
        Assert.Equal(100m, (await _shop.AccountAsync(customer)).Balance);
    }

    [Fact]
    public async Task When_the_customer_account_is_unknown_Should_cancel()
    {
        var merchant = ShopClient.NewId("shop");
        await _shop.CreateAccountAsync(merchant, "merchant", 0m);

        var order = await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(ShopClient.NewId("ghost"), merchant, unitPrice: 5m));

        Assert.Equal("Cancelled", order.Status);
        Assert.Contains("AccountNotFound", order.FailureReason);
        Assert.Equal("AccountNotFound", order.FailureCode);
        Assert.Equal(0m, (await _shop.AccountAsync(merchant)).Balance);
    }

    [Fact]
    public async Task When_the_merchant_is_frozen_Should_refund_the_customer()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        await _shop.OperatorPostAsync($"/api/accounts/{merchant}/freeze");

        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 30m);
        var order = await _shop.WaitForOutcomeAsync(orderId);

        Assert.Equal("Cancelled", order.Status);
        Assert.Contains("AccountFrozen", order.FailureReason);
        Assert.Equal("MerchantFrozen", order.FailureCode);
        Assert.Equal(100m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(0m, (await _shop.AccountAsync(merchant)).Balance);
        Assert.Equal(["Opening", "Debit", "Refund"], (await _shop.LedgerAsync(customer)).Select(e => e.Type));
        var saga = await _shop.SagaAsync(orderId);
        Assert.Equal(["Debiting", "Crediting", "Refunding", "Cancelled"], saga.History!.Select(h => h.ToState));
    }

    [Fact]
    public async Task When_points_accrual_is_rejected_Should_reverse_the_credit_and_refund_the_customer()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        await _shop.OperatorPostAsync($"/api/points/{customer}/suspend");

        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 40m);
        var order = await _shop.WaitForOutcomeAsync(orderId);

        Assert.Equal("Cancelled", order.Status);
        Assert.Contains("MemberSuspended", order.FailureReason);
        Assert.Equal("MemberSuspended", order.FailureCode);
        Assert.Equal(100m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(0m, (await _shop.AccountAsync(merchant)).Balance);
        Assert.Equal(0, (await _shop.PointsAsync(customer)).Balance);
        Assert.Equal(["Opening", "Credit", "CreditReversal"], (await _shop.LedgerAsync(merchant)).Select(e => e.Type));
        var saga = await _shop.SagaAsync(orderId);
        Assert.Equal(["Debiting", "Crediting", "Accruing", "ReversingCredit", "Refunding", "Cancelled"], saga.History!.Select(h => h.ToState));
    }
}
