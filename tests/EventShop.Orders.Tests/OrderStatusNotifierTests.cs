using EventShop.Orders.Domain;
using EventShop.Orders.StatusNotifications;

namespace EventShop.Orders.Tests;

/// <summary>The long-poll and event-stream requests wait on this; it must hand over the committed order and forget idle waiters.</summary>
public sealed class OrderStatusNotifierTests
{
    readonly ManualClock _clock = new();
    readonly OrderStatusNotifier _notifier;

    public OrderStatusNotifierTests() => _notifier = new OrderStatusNotifier(_clock);

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
    public async Task When_one_of_two_waiters_on_an_order_gives_up_Should_still_hand_the_change_to_the_other()
    {
        // A client that long-polls and streams the same order: the long-poll's timeout must not deafen the stream.
        var order = NewOrder();
        var leaving = _notifier.WaitForChangeAsync(order.OrderId);
        var staying = _notifier.WaitForChangeAsync(order.OrderId);

        _notifier.Forget(order.OrderId, leaving);
        Assert.Equal(1, _notifier.Waiting);
        _notifier.Changed(order);

        Assert.Same(order, await staying.WaitAsync(TimeSpan.FromSeconds(5)));
        _notifier.Forget(order.OrderId, staying);
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

    [Fact]
    public void When_an_accepted_order_completes_Should_stop_answering_it_from_memory()
    {
        var order = NewOrder();
        _notifier.Submitted(order);
        Assert.Same(order, _notifier.RecentlySubmitted(order.OrderId));

        var completed = NewOrder(order.OrderId);
        completed.Complete(pointsAccrued: 12, DateTimeOffset.UtcNow);
        _notifier.Changed(completed);

        Assert.Null(_notifier.RecentlySubmitted(order.OrderId));
        Assert.Equal(0, _notifier.Remembered);
    }

    [Fact]
    public void When_an_accepted_order_is_older_than_its_lifetime_Should_leave_it_to_the_database()
    {
        // Another replica may have completed it while this one was not listening: the memory must age out.
        var order = NewOrder();
        _notifier.Submitted(order);

        _clock.Advance(OrderStatusNotifier.SubmittedLifetime);

        Assert.Null(_notifier.RecentlySubmitted(order.OrderId));
        Assert.Equal(0, _notifier.Remembered);
    }

    [Fact]
    public void When_more_orders_are_accepted_than_it_may_remember_Should_stay_bounded_and_make_room_from_expired_ones()
    {
        for (var i = 0; i < OrderStatusNotifier.MaxSubmitted + 50; i++)
            _notifier.Submitted(NewOrder());
        Assert.Equal(OrderStatusNotifier.MaxSubmitted, _notifier.Remembered);

        _clock.Advance(OrderStatusNotifier.SubmittedLifetime);
        var fresh = NewOrder();
        _notifier.Submitted(fresh);

        Assert.Equal(1, _notifier.Remembered);
        Assert.Same(fresh, _notifier.RecentlySubmitted(fresh.OrderId));
    }

    [Fact]
    public async Task When_a_change_is_heard_from_the_database_Should_wake_its_waiters_to_read_it_and_forget_the_accepted_order()
    {
        var order = NewOrder();
        _notifier.Submitted(order);
        var waiter = _notifier.WaitForChangeAsync(order.OrderId);
        var other = _notifier.WaitForChangeAsync(Guid.NewGuid());

        _notifier.ChangedElsewhere(order.OrderId);

        // Null: the change was made by another replica, so the waiter has no committed order in hand and reads it.
        Assert.Null(await waiter.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Null(_notifier.RecentlySubmitted(order.OrderId));
        Assert.False(other.IsCompleted);
        Assert.Equal(1, _notifier.Waiting);
    }

    [Fact]
    public async Task When_changes_may_have_been_missed_Should_wake_every_waiter_and_forget_every_accepted_order()
    {
        var orders = Enumerable.Range(0, 3).Select(_ => NewOrder()).ToList();
        orders.ForEach(_notifier.Submitted);
        var waiters = orders.Select(order => _notifier.WaitForChangeAsync(order.OrderId)).ToList();

        _notifier.ChangedElsewhereForAll();

        Assert.All(await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(5)), Assert.Null);
        Assert.Equal(0, _notifier.Waiting);
        Assert.Equal(0, _notifier.Remembered);
    }

    static Order NewOrder(Guid? orderId = null) => Order.Place(orderId ?? Guid.NewGuid(), "alice", "shop",
        [new OrderItem { Sku = "sku-1", Quantity = 1, UnitPrice = 12.50m }], "alice", "key-1", "hash", DateTimeOffset.UtcNow);

    sealed class ManualClock : TimeProvider
    {
        DateTimeOffset _now = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
