using EventShop.Orders.Domain;

namespace EventShop.Orders.Tests;

/// <summary>The long-poll and event-stream requests wait on this; it must hand over the committed order and forget idle waiters.</summary>
public sealed class OrderStatusNotifierTests
{
    readonly OrderStatusNotifier _notifier = new();

    [Fact]
    public async Task When_the_order_changes_Should_hand_the_committed_order_to_every_waiter_and_forget_them()
    {
        var order = NewOrder();
        var first = _notifier.WaitForChangeAsync(order.OrderId);
        var second = _notifier.WaitForChangeAsync(order.OrderId);

        order.Complete(pointsAccrued: 12, DateTimeOffset.UtcNow);
        _notifier.Changed(order);

        Assert.Same(order, await first.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Same(order, await second.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, _notifier.Waiting);
        // Handed over instead of read back, so it must carry what PostgreSQL stores: whole microseconds.
        Assert.Equal(0, order.UpdatedAt.Ticks % 10);
    }

    [Fact]
    public void When_a_waiter_gives_up_Should_not_keep_the_order_in_memory()
    {
        // Every GET of an order that is already Completed registers before it reads; without Forget each one would stay.
        var orderIds = Enumerable.Range(0, 100).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var orderId in orderIds)
            _notifier.Forget(orderId, _notifier.WaitForChangeAsync(orderId));

        Assert.Equal(0, _notifier.Waiting);
    }

    [Fact]
    public void When_an_earlier_waiter_forgets_after_a_new_registration_Should_leave_the_new_one()
    {
        var order = NewOrder();
        var stale = _notifier.WaitForChangeAsync(order.OrderId);
        _notifier.Changed(order);
        var current = _notifier.WaitForChangeAsync(order.OrderId);

        _notifier.Forget(order.OrderId, stale);

        Assert.Equal(1, _notifier.Waiting);
        _notifier.Changed(order);
        Assert.True(current.IsCompletedSuccessfully);
    }

    static Order NewOrder() => Order.Place(Guid.NewGuid(), "alice", "shop",
        [new OrderItem { Sku = "sku-1", Quantity = 1, UnitPrice = 12.50m }], "alice", "key-1", "hash", DateTimeOffset.UtcNow);
}
