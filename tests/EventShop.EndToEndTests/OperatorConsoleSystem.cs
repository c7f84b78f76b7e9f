using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// EventShop for the operator console's tests: steps wait long enough for a test to act on a saga held in one (a service
/// stopped), Accruing is stuck after 2 s, and Orders does not ask the saga again about a Pending order during a test, so an
/// order completed there was completed by the operator's retry.
/// </summary>
public sealed class OperatorConsoleSystem : EventShopSystem
{
    protected override TimeSpan StepTimeout => TimeSpan.FromSeconds(90);

    protected override IEnumerable<KeyValuePair<string, string>> ExtraEnvironment(string service) => service switch
    {
        "orders" => [new("Orders__Reconciler__PendingBudget", "00:30:00")],
        "sagas" => [new("Saga__Stuck__Budgets__Accruing", "00:00:02")],
        _ => [],
    };
}
