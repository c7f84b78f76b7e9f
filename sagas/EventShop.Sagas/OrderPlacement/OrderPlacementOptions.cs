namespace EventShop.Sagas.OrderPlacement;

public sealed class OrderPlacementOptions
{
    public const string Section = "Saga";

    /// <summary>How long a step waits for its reply before the saga compensates (or re-sends a compensation).</summary>
    public TimeSpan StepTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a compensation is sent before the saga gives up on it and ends in CompensationFailed for an operator.
    /// Compensations cannot be rejected (ADR 0004), so running out means the compensating service is down or its message
    /// keeps failing: re-sending it for ever would hide that.
    /// </summary>
    public int MaxCompensationAttempts { get; set; } = 10;

    /// <summary>
    /// The sweeper raises a step's timeout again this long after it last raised it, until the saga has consumed one (its
    /// step token changed): a timeout that ended in an error queue, or was lost with a crashed relay, cannot freeze a saga.
    /// </summary>
    public TimeSpan TimeoutRepeat { get; set; } = TimeSpan.FromSeconds(30);
}
