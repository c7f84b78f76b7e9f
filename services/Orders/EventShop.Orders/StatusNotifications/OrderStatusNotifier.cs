using System.Collections.Concurrent;

using EventShop.Orders.Domain;

namespace EventShop.Orders.StatusNotifications;

/// <summary>
/// Lets a long-poll or event-stream request wait for an order's status to change instead of the client polling.
/// The waiter gets the order as committed when this process made the change, so it answers without reading it back, or
/// null when the change was heard from the database (<see cref="OrderStatusListener"/>): another replica's
/// change, which the waiter then reads.
/// It also remembers the orders this process has just accepted: a client follows its 202 with a long-poll moments later,
/// and that first read can be answered from memory instead of the database (a database transaction fewer for every order).
/// </summary>
public sealed class OrderStatusNotifier(TimeProvider clock)
{
    readonly ConcurrentDictionary<Guid, Registration> _waiters = new();
    readonly ConcurrentDictionary<Guid, (Order Order, DateTimeOffset Until)> _submitted = new();
    long _nextSweepTicks; // read and written by concurrent submits: a long, so it is never torn

    /// <summary>How long an accepted order is remembered, and how many at most: an order completed by another replica is
    /// never removed by <see cref="Changed"/> here, so entries must age out and memory stay bounded.</summary>
    public static readonly TimeSpan SubmittedLifetime = TimeSpan.FromSeconds(10);
    public const int MaxSubmitted = 10_000;

    /// <returns>The order as committed here, or null when it changed and must be read again.</returns>
    public Task<Order?> WaitForChangeAsync(Guid orderId)
    {
        while (true)
        {
            var registration = _waiters.GetOrAdd(orderId, _ => new Registration());
            lock (registration)
            {
                if (!registration.Closed)
                {
                    registration.Waiters++;
                    return registration.Changed.Task;
                }
            }
            // Completed, or given up by its last waiter, in the meantime and being removed: register anew.
        }
    }

    /// <summary>
    /// A waiter that stops waiting without a change (timed out, answered, disconnected) gives up its registration, or every
    /// order ever waited on would stay in memory. Requests waiting on the same order share one registration (a client may
    /// long-poll and stream at once); it is removed when the last of them gives up, so the others still hear the change.
    /// </summary>
    public void Forget(Guid orderId, Task<Order?> waiter)
    {
        if (!_waiters.TryGetValue(orderId, out var registration) || registration.Changed.Task != waiter)
            return; // already completed, and perhaps registered anew by others
        lock (registration)
        {
            if (--registration.Waiters > 0)
                return;
            registration.Closed = true;
        }

        _waiters.TryRemove(new KeyValuePair<Guid, Registration>(orderId, registration));
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

    /// <summary>
    /// A status change committed somewhere, heard from the database: the order is no longer as accepted, and its waiters
    /// read it again. For a change this process made, <see cref="Changed"/> has usually run first and this finds nothing.
    /// </summary>
    public void ChangedElsewhere(Guid orderId)
    {
        _submitted.TryRemove(orderId, out _);
        Complete(orderId, null);
    }

    /// <summary>Changes may have been missed (the database connection was lost): every waiter reads its order again.</summary>
    public void ChangedElsewhereForAll()
    {
        _submitted.Clear();
        foreach (var orderId in _waiters.Keys)
            ChangedElsewhere(orderId);
    }

    /// <summary>Call once the change has committed. Waiters only read the order; nobody changes it afterwards.</summary>
    public void Changed(Order order)
    {
        // First: from here on a status read goes to the database, or to a waiter registered before it.
        _submitted.TryRemove(order.OrderId, out _);
        Complete(order.OrderId, order);
    }

    void Complete(Guid orderId, Order? order)
    {
        if (!_waiters.TryRemove(orderId, out var registration))
            return;
        lock (registration)
            registration.Closed = true;
        registration.Changed.TrySetResult(order);
    }

    /// <summary>The waiters of one order. Closed once completed or given up by its last waiter: nobody joins it then.</summary>
    sealed class Registration
    {
        public readonly TaskCompletionSource<Order?> Changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Waiters;
        public bool Closed;
    }
}
