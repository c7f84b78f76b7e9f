using System.Collections.Concurrent;

namespace EventShop.Messaging.Hosting.Redelivery;

/// <summary>
/// What this service's error queues held at the redeliverer's last look: the messages no automatic redelivery will take
/// (a cause that does not pass by itself, or the budget spent), which the invariants report as parked.
/// </summary>
public sealed class ErrorQueueCensus
{
    readonly ConcurrentDictionary<string, int> _forAnOperator = new(StringComparer.Ordinal);

    public void Record(string errorQueue, int forAnOperator) => _forAnOperator[errorQueue] = forAnOperator;

    /// <summary>Error queues holding messages for an operator, with how many.</summary>
    public IReadOnlyDictionary<string, int> ForAnOperator =>
        _forAnOperator.Where(q => q.Value > 0).OrderBy(q => q.Key, StringComparer.Ordinal).ToDictionary(q => q.Key, q => q.Value, StringComparer.Ordinal);
}
