namespace EventShop.Messaging.Outbox;

public sealed class OutboxRelayOptions
{
    public const string Section = "Messaging:Outbox";

    /// <summary>Rows taken (and locked) per transaction; they are published concurrently so confirms overlap.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>Fallback poll for rows committed by other processes or left behind by a crash.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A row that failed this many times is left for an operator instead of blocking the relay.</summary>
    public int MaxAttempts { get; set; } = 25;
}
