namespace EventShop.Sagas.OrderPlacement;

public sealed class OrderPlacementOptions
{
    public const string Section = "Saga";

    /// <summary>How long a step waits for its reply before the saga compensates (or re-sends a compensation).</summary>
    public TimeSpan StepTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
