using EventShop.Contracts;
using EventShop.Contracts.Accounts;
using EventShop.Contracts.Orders;
using EventShop.Contracts.Points;

namespace EventShop.Sagas.Tests;

/// <summary>
/// Orders' reconciler re-publishes OrderSubmitted for an order still Pending past its budget (ADR 0008): the first one, or
/// the saga's outcome, may be sitting in an error queue. The saga answers an ended order with its outcome again.
/// </summary>
public sealed class When_orders_asks_again_for_a_pending_order : IAsyncLifetime
{
    readonly OrderStateMachineHarness _saga = new();

    public Task InitializeAsync() => _saga.InitializeAsync();

    public Task DisposeAsync() => _saga.DisposeAsync();

    [Fact]
    public async Task When_the_order_completed_Should_announce_the_completion_again()
    {
        await _saga.SubmitAsync();
        // The reply only after the saga exists: one published first finds no saga and is dropped (a CI run saw it).
        await _saga.InStateAsync(m => m.Debiting);
        await _saga.PublishAsync(new CustomerDebited(_saga.OrderId, "alice", 25.50m));
        await _saga.InStateAsync(m => m.Crediting);
        await _saga.PublishAsync(new MerchantCredited(_saga.OrderId, "shop", 25.50m));
        await _saga.InStateAsync(m => m.Accruing);
        await _saga.PublishAsync(new PointsAccrued(_saga.OrderId, "alice", 25));
        await _saga.InStateAsync(m => m.Completed);

        await _saga.SubmitAsync();
        await _saga.SettleAsync();

        Assert.Equal(2, _saga.PublishedCount<OrderCompleted>());
        Assert.Equal(1, _saga.PublishedCount<DebitCustomer>());
        Assert.All(_saga.Harness.Published.Select<OrderCompleted>(x => x.Context.Message.OrderId == _saga.OrderId),
            completed => Assert.Equal(25, completed.Context.Message.PointsAccrued));
    }

    [Fact]
    public async Task When_the_order_was_cancelled_Should_announce_the_cancellation_again_with_its_reason()
    {
        await _saga.SubmitAsync();
        await _saga.InStateAsync(m => m.Debiting);
        await _saga.PublishAsync(new CustomerDebitRejected(_saga.OrderId, "alice", RejectionReasons.InsufficientFunds));
        await _saga.InStateAsync(m => m.Cancelled);

        await _saga.SubmitAsync();
        await _saga.SettleAsync();

        var cancellations = _saga.Harness.Published.Select<OrderCancelled>(x => x.Context.Message.OrderId == _saga.OrderId).ToList();
        Assert.Equal(2, cancellations.Count);
        Assert.Equal(cancellations[0].Context.Message.Reason, cancellations[1].Context.Message.Reason);
        Assert.Equal(1, _saga.PublishedCount<DebitCustomer>());
    }

    [Fact]
    public async Task When_the_saga_is_in_flight_Should_ignore_it()
    {
        await _saga.SubmitAsync();
        // The reply only after the saga exists: one published first finds no saga and is dropped (a CI run saw it).
        await _saga.InStateAsync(m => m.Debiting);
        await _saga.PublishAsync(new CustomerDebited(_saga.OrderId, "alice", 25.50m));
        var crediting = await _saga.InStateAsync(m => m.Crediting);
        var token = crediting.StepToken;

        await _saga.SubmitAsync();
        // Wait for the second OrderSubmitted itself rather than for the bus to look idle: on a loaded machine the harness's
        // inactivity can be reached before the repeated message was consumed.
        for (var i = 0; i < 200 && _saga.Saga.Consumed.Select<OrderSubmitted>().Count() < 2; i++)
            await Task.Delay(50);
        Assert.Equal(2, _saga.Saga.Consumed.Select<OrderSubmitted>().Count());
        await _saga.SettleAsync();

        var saga = await _saga.InStateAsync(m => m.Crediting);
        Assert.Equal(token, saga.StepToken);
        Assert.Equal(1, _saga.PublishedCount<DebitCustomer>());
        Assert.Equal(1, _saga.PublishedCount<CreditMerchant>());
        Assert.Equal(0, _saga.PublishedCount<OrderCompleted>() + _saga.PublishedCount<OrderCancelled>());
    }

    [Fact]
    public async Task When_a_compensation_failed_Should_announce_nothing()
    {
        await _saga.SubmitAsync();
        // The reply only after the saga exists: one published first finds no saga and is dropped (a CI run saw it).
        await _saga.InStateAsync(m => m.Debiting);
        await _saga.PublishAsync(new CustomerDebited(_saga.OrderId, "alice", 25.50m));
        await _saga.InStateAsync(m => m.Crediting);
        await _saga.PublishAsync(new MerchantCreditRejected(_saga.OrderId, "shop", RejectionReasons.AccountFrozen));
        for (var attempt = 1; attempt <= OrderStateMachineHarness.MaxCompensationAttempts; attempt++)
        {
            var refunding = await _saga.InStateAsync(m => m.Refunding);
            for (var i = 0; i < 100 && _saga.PublishedCount<RefundCustomer>() < attempt; i++)
                await Task.Delay(50);
            await _saga.PublishAsync(new EventShop.Sagas.OrderPlacement.OrderStepTimedOut(_saga.OrderId, refunding.StepToken, refunding.CurrentState));
        }
        await _saga.InStateAsync(m => m.CompensationFailed);

        await _saga.SubmitAsync();
        await _saga.SettleAsync();

        Assert.Equal(0, _saga.PublishedCount<OrderCompleted>() + _saga.PublishedCount<OrderCancelled>());
        Assert.Equal(0, _saga.PublishedCount<AccruePoints>());
    }
}
