using System.Collections.Concurrent;

namespace EventShop.Orders.Domain;

/// <summary>
/// Lets a long-poll or event-stream request wait for an order's status to change instead of the client polling.
/// The waiter gets the order as committed, so it answers without reading it back.
/// In-process only: requests on another replica still see the change through their periodic re-read.
/// </summary>
public sealed class OrderStatusNotifier
{
    readonly ConcurrentDictionary<Guid, TaskCompletionSource<Order>> _waiters = new();

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

    /// <summary>Call once the change has committed. Waiters only read the order; nobody changes it afterwards.</summary>
    public void Changed(Order order)
    {
        if (_waiters.TryRemove(order.OrderId, out var waiter))
            waiter.TrySetResult(order);
    }
}
