namespace EventShop.Messaging.Outbox;

public sealed class OutboxRelayOptions
{
    public const string Section = "Messaging:Outbox";

    /// <summary>Rows taken (and locked) per transaction; they are published concurrently so confirms overlap.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>Fallback poll for rows committed by other processes or left behind by a crash.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Rows published from memory are deleted together once the oldest has waited this long (or a batch is full): one
    /// statement per window instead of one per message at moderate load. A crash inside the window re-sends them (same
    /// MessageIds, absorbed by the receivers' inboxes).
    /// </summary>
    public TimeSpan DeleteWindow { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>A row that failed this many times is left for an operator instead of blocking the relay.</summary>
    public int MaxAttempts { get; set; } = 25;
}
