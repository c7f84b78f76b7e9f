namespace EventShop.Messaging.Hosting.Redelivery;

/// <summary>
/// How a service delivers again the messages its own consumers failed for a transient cause (section
/// <c>Messaging:Redelivery</c>, ADR 0008): message n (0-based) waits <see cref="FirstDelay"/> x 2^n after the redeliverer
/// first saw it in the error queue, and at most <see cref="MaxRedeliveries"/> times; the defaults try for about five minutes
/// of a reachable database (10, 20, 40, 80, 160 s). Past that the message waits for an operator (GET /api/failures).
/// </summary>
public sealed class ErrorQueueRedeliveryOptions
{
    public const string Section = "Messaging:Redelivery";

    public bool Enabled { get; set; } = true;

    /// <summary>How often the service looks at the depth of its error queues (a passive declare each, no message moved).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan FirstDelay { get; set; } = TimeSpan.FromSeconds(10);

    public int MaxRedeliveries { get; set; } = 5;

    /// <summary>The wait before delivery number <paramref name="redeliveries"/> + 1.</summary>
    public TimeSpan DelayBefore(int redeliveries) => FirstDelay * Math.Pow(2, Math.Min(redeliveries, 16));
}
