using System.Collections.Concurrent;

namespace EventShop.Orders.Domain;

/// <summary>
/// Lets a long-poll or event-stream request wait for an order's status to change instead of the client polling.
/// The waiter gets the order as committed, so it answers without reading it back.
/// In-process only: requests on another replica still see the change through their periodic re-read.
/// It also remembers the orders this process has just accepted: a client follows its 202 with a long-poll moments later,
/// and that first read can be answered from memory instead of the database (one transaction of about eleven per order).
/// </summary>
public sealed class OrderStatusNotifier(TimeProvider clock)
{
    readonly ConcurrentDictionary<Guid, TaskCompletionSource<Order>> _waiters = new();
    readonly ConcurrentDictionary<Guid, (Order Order, DateTimeOffset Until)> _submitted = new();
    long _nextSweepTicks; // read and written by concurrent submits: a long, so it is never torn

    /// <summary>How long an accepted order is remembered, and how many at most: an order completed by another replica is
    /// never removed by <see cref="Changed"/> here, so entries must age out and memory stay bounded.</summary>
    public static readonly TimeSpan SubmittedLifetime = TimeSpan.FromSeconds(10);
    public const int MaxSubmitted = 10_000;

    public Task<Order> WaitForChangeAsync(Guid orderId) =>
        _waiters.GetOrAdd(orderId, _ => new TaskCompletionSource<Order>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>
    /// A waiter that stops waiting without a change (timed out, answered, disconnected) removes its registration, or every
    /// order ever waited on would stay in memory. A second request waiting on the same order at that moment loses the
    /// shared notification and finds the change through its one-second re-read instead.
    /// </summary>
    public void Forget(Guid orderId, Task<Order> waiter)
    {
        if (_waiters.TryGetValue(orderId, out var registered) && registered.Task == waiter)
            _waiters.TryRemove(new KeyValuePair<Guid, TaskCompletionSource<Order>>(orderId, registered));
    }

    /// <summary>How many orders have a waiter now.</summary>
    public int Waiting => _waiters.Count;

    /// <summary>Call once a new order has committed: it is Pending, and this object is what a read of its row would return.</summary>
    public void Submitted(Order order)
    {
        if (_submitted.Count >= MaxSubmitted)
            ForgetExpired();
        if (_submitted.Count < MaxSubmitted)
            _submitted[order.OrderId] = (order, clock.GetUtcNow() + SubmittedLifetime);
    }

    /// <summary>
    /// The order as accepted by this process, while it is still Pending here and recent; otherwise null and the caller reads
    /// the database. Answering Pending from memory is safe only with a waiter registered first (as the long-poll does): a
    /// completion that commits after this call still reaches the waiter, and one that committed before removed the entry.
    /// </summary>
    public Order? RecentlySubmitted(Guid orderId)
    {
        if (!_submitted.TryGetValue(orderId, out var entry))
            return null;
        if (entry.Until > clock.GetUtcNow())
            return entry.Order;
        _submitted.TryRemove(new KeyValuePair<Guid, (Order, DateTimeOffset)>(orderId, entry));
        return null;
    }

    /// <summary>How many accepted orders are remembered now.</summary>
    public int Remembered => _submitted.Count;

    void ForgetExpired()
    {
        // Full and nothing expired yet (over a thousand orders a second): scan at most once a second, not on every submit.
        var now = clock.GetUtcNow();
        var due = Volatile.Read(ref _nextSweepTicks);
        if (now.UtcTicks < due || Interlocked.CompareExchange(ref _nextSweepTicks, (now + TimeSpan.FromSeconds(1)).UtcTicks, due) != due)
            return; // not yet, or another submit is sweeping
        foreach (var (orderId, entry) in _submitted)
        {
            if (entry.Until <= now)
                _submitted.TryRemove(new KeyValuePair<Guid, (Order, DateTimeOffset)>(orderId, entry));
        }
    }

    /// <summary>Call once the change has committed. Waiters only read the order; nobody changes it afterwards.</summary>
    public void Changed(Order order)
    {
        // First: from here on a status read goes to the database, or to a waiter registered before it.
        _submitted.TryRemove(order.OrderId, out _);
        if (_waiters.TryRemove(order.OrderId, out var waiter))
            waiter.TrySetResult(order);
    }
}
