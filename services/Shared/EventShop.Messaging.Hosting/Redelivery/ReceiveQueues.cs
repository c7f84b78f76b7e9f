namespace EventShop.Messaging.Hosting.Redelivery;

/// <summary>The queues this service's receive endpoints consume (filled while the bus is configured): its own error queues.</summary>
public sealed class ReceiveQueues
{
    readonly Lock _lock = new();
    readonly SortedSet<string> _names = new(StringComparer.Ordinal);

    public void Add(string queue)
    {
        lock (_lock)
            _names.Add(queue);
    }

    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_lock)
                return [.. _names];
        }
    }
}
