using System.Diagnostics;

namespace EventShop.Messaging.Outbox;

/// <summary>
/// Since when every publish of the outbox relay has timed out with none confirmed in between (ADR 0008 point 7): a relay
/// whose channel stopped answering publishes nothing while its receive endpoints look healthy. The receive endpoint
/// watchdog counts it as one more thing down, on the same budget and only while the broker accepts connections.
/// </summary>
public sealed class PublishStall
{
    /// <summary>
    /// A stall is current only while publishes keep timing out: the relay tries its rows again every few seconds, so a last
    /// timeout older than this means it had nothing more to publish (or the broker went away), not that it is stuck.
    /// </summary>
    static readonly TimeSpan Freshness = TimeSpan.FromSeconds(30);

    long _since;
    long _last;

    /// <summary>
    /// From the first to the latest of the publishes that have been timing out with no confirm in between; null when none is
    /// timing out now. One timeout alone (a confirm lost when the broker died) is a stall of zero.
    /// </summary>
    public TimeSpan? Duration
    {
        get
        {
            var (since, last) = (Interlocked.Read(ref _since), Interlocked.Read(ref _last));
            return since != 0 && Stopwatch.GetElapsedTime(last) <= Freshness ? Stopwatch.GetElapsedTime(since, last) : null;
        }
    }

    public void TimedOut()
    {
        var now = Stopwatch.GetTimestamp();
        var previous = Interlocked.Exchange(ref _last, now);
        // A new stall when none was running, or when the earlier timeouts are too old to be part of this one.
        if (Interlocked.Read(ref _since) == 0 || Stopwatch.GetElapsedTime(previous, now) > Freshness)
            Interlocked.Exchange(ref _since, now);
    }

    public void Confirmed() => Interlocked.Exchange(ref _since, 0);
}
