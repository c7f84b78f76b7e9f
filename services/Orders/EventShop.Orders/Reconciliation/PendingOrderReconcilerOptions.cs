namespace EventShop.Orders.Reconciliation;

public sealed class PendingOrderReconcilerOptions
{
    public const string Section = "Orders:Reconciler";

    /// <summary>
    /// How long an order may stay Pending before Orders asks the saga again (re-publishes its OrderSubmitted), and again
    /// after each ask. A few step timeouts: a healthy order ends well within it, so an ask means a hop was lost (a message in
    /// an error queue), and asking costs one message the saga ignores while it is still in flight.
    /// </summary>
    public TimeSpan PendingBudget { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the reconciler looks for orders past their budget.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    public int BatchSize { get; set; } = 100;
}
