namespace EventShop.Gateway.Invariants;

public sealed class InvariantsSettings
{
    public const string Section = "Invariants";

    /// <summary>How often the check runs; <c>GET /api/invariants</c> answers the latest verdict.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most two services' clocks may differ. Orders counts an order as settled once it has not changed for twice this
    /// long; the others leave out orders with anything recorded less than this long before Orders answered (ADR 0013).
    /// </summary>
    public TimeSpan ClockTolerance { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one service may take to answer; a service that does not is named in a failed check.</summary>
    public TimeSpan PartTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
