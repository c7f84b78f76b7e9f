using EventShop.Contracts;
using EventShop.Contracts.Accounts;
using EventShop.Contracts.Orders;
using EventShop.Contracts.Points;

namespace EventShop.Sagas.Tests;

public sealed class When_events_are_duplicated_or_late : IAsyncLifetime
{
    readonly OrderStateMachineHarness _saga = new();

    public Task InitializeAsync() => _saga.InitializeAsync();

    public Task DisposeAsync() => _saga.DisposeAsync();

    [Fact]
    public async Task When_a_reply_is_duplicated_Should_take_the_next_step_once()
    {
        await _saga.SubmitAsync();
        await _saga.InStateAsync(m => m.Debiting);

        await _saga.PublishAsync(new CustomerDebited(_saga.OrderId, "alice", 25.50m));
        await _saga.PublishAsync(new CustomerDebited(_saga.OrderId, "alice", 25.50m));
        await _saga.InStateAsync(m => m.Crediting);
        await _saga.SettleAsync();

        Assert.Equal(1, _saga.PublishedCount<CreditMerchant>());
        Assert.Equal(1, _saga.PublishedCount<DebitCustomer>());
    }

    [Fact]
    public async Task When_the_order_is_submitted_twice_Should_start_one_saga()
    {
        await _saga.SubmitAsync();
        await _saga.SubmitAsync();
        await _saga.InStateAsync(m => m.Debiting);
        await _saga.SettleAsync();

        Assert.Equal(1, _saga.PublishedCount<DebitCustomer>());
    }

    [Fact]
    public async Task When_a_late_reply_arrives_after_cancellation_Should_be_ignored()
    {
        await _saga.SubmitAsync();
        await _saga.InStateAsync(m => m.Debiting);
        await _saga.PublishAsync(new CustomerDebitRejected(_saga.OrderId, "alice", RejectionReasons.InsufficientFunds));
        await _saga.InStateAsync(m => m.Cancelled);

        await _saga.PublishAsync(new CustomerDebited(_saga.OrderId, "alice", 25.50m));
        await _saga.PublishAsync(new PointsAccrued(_saga.OrderId, "alice", 25));
        await _saga.SettleAsync();

        await _saga.InStateAsync(m => m.Cancelled);
        Assert.Equal(0, _saga.PublishedCount<CreditMerchant>());
        Assert.Equal(0, _saga.PublishedCount<OrderCompleted>());
        Assert.Equal(1, _saga.PublishedCount<OrderCancelled>());
        Assert.False(await _saga.Harness.Published.Any<MassTransit.Fault<CustomerDebited>>());
    }

    [Fact]
    public async Task When_a_completed_saga_gets_more_events_Should_handle_them_without_error()
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

        await _saga.PublishAsync(new PointsAccrued(_saga.OrderId, "alice", 25));
        await _saga.PublishAsync(new MerchantCreditRejected(_saga.OrderId, "shop", RejectionReasons.AccountFrozen));
        await _saga.SettleAsync();

        await _saga.InStateAsync(m => m.Completed);
        Assert.Equal(1, _saga.PublishedCount<OrderCompleted>());
        Assert.Equal(0, _saga.PublishedCount<RefundCustomer>());
        Assert.False(await _saga.Harness.Published.Any<MassTransit.Fault<PointsAccrued>>());
    }

    [Fact]
    public async Task When_a_reply_arrives_for_an_order_it_never_started_Should_acknowledge_it_without_a_fault()
    {
        var unknownOrder = Guid.NewGuid();

        await _saga.PublishAsync(new MerchantCredited(unknownOrder, "shop", 10m));
        await _saga.PublishAsync(new MerchantCreditReversed(unknownOrder, "shop", 10m));
        await _saga.SettleAsync();

        Assert.True(await _saga.Harness.Consumed.Any<MerchantCredited>(x => x.Context.Message.OrderId == unknownOrder));
        Assert.False(await _saga.Harness.Published.Any<MassTransit.Fault<MerchantCredited>>());
        Assert.False(await _saga.Harness.Published.Any<MassTransit.Fault<MerchantCreditReversed>>());
        Assert.Null(await _saga.Saga.Exists(unknownOrder, m => m.Cancelled, TimeSpan.FromMilliseconds(100)));
    }
}
