using System.Collections.Concurrent;

namespace EventShop.Orders.Domain;

/// <summary>
/// Lets a long-poll or event-stream request wait for an order's status to change instead of the client polling.
/// In-process only: requests on another replica still see the change through their periodic re-read.
/// </summary>
public sealed class OrderStatusNotifier
{
    readonly ConcurrentDictionary<Guid, TaskCompletionSource> _waiters = new();

    public Task WaitForChangeAsync(Guid orderId) =>
        _waiters.GetOrAdd(orderId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Changed(Guid orderId)
    {
        if (_waiters.TryRemove(orderId, out var waiter))
            waiter.TrySetResult();
    }
}
