namespace EventShop.Messaging.Outbox;

public sealed class OutboxRelayOptions
{
    public const string Section = "Messaging:Outbox";

    /// <summary>Rows taken (and locked) per transaction; they are published concurrently so confirms overlap.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>Fallback poll for rows committed by other processes or left behind by a crash.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The poll leaves rows younger than this alone. The process that committed a row publishes it from memory within
    /// milliseconds, but only once its commit has returned and the hand-over has run; a poll in that gap would publish the
    /// row a second time. Under load the gap is a thread-pool queue away, and the duplicates cost a failed unit of work at
    /// every receiver (docs/benchmark.md measured how many). Rows left behind by a crash, by a failed
    /// publish or by code that does not hand over are still found, this much later.
    /// </summary>
    public TimeSpan PollGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Rows published from memory are deleted together once the oldest has waited this long (or a batch is full): one
    /// statement per window instead of one per message at moderate load. A crash inside the window re-sends them (same
    /// MessageIds, absorbed by the receivers' inboxes), so the window trades a second of possible re-sends for fewer database
    /// transactions per order at a low rate, where a short window holds one or two rows (ADR 0003, docs/benchmark.md).
    /// </summary>
    public TimeSpan DeleteWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A row that failed this many times in a row is parked: the poll leaves it alone so it cannot hold up the others, it is
    /// counted (<c>eventshop.outbox.parked</c>), listed by <see cref="OutboxRelay{TDbContext}.ParkedAsync"/>, and retried once
    /// every <see cref="ParkedRetryInterval"/>, so a transient cause (a queue deleted and declared again) never parks a row
    /// for good. Attempts are counted only while the broker is reachable: an outage parks nothing.
    /// </summary>
    public int MaxAttempts { get; set; } = 25;

    /// <summary>
    /// How long one publish may wait for the broker's confirm before it counts as failed (its row stays and is sent again,
    /// with the same MessageId). Without a bound, a confirm the client never completes (a publish in flight when the broker
    /// was killed) held the relay, and every message of the service behind it, for good.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often parked rows are tried again (and counted): the long backoff of a row that keeps failing.</summary>
    public TimeSpan ParkedRetryInterval { get; set; } = TimeSpan.FromMinutes(5);
}
