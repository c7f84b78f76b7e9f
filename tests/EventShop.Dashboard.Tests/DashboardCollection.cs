using EventShop.Testing;

// Each collection runs a whole EventShop; two at once on a 2-core machine would make the sagas' short step timeouts fire.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace EventShop.Dashboard.Tests;

/// <summary>
/// EventShop with a longer step timeout than the other end-to-end fixtures: here a browser polling every few seconds shares the two
/// cores, and a cold service's first reply can take longer than 4 s, which would cancel an order the test expects to complete.
/// </summary>
public sealed class DashboardSystem : EventShopSystem
{
    protected override TimeSpan StepTimeout => TimeSpan.FromSeconds(10);

    /// <summary>
    /// Orders asks the saga again about an order Pending this long (ADR 0008): long enough here that an order whose completion
    /// sits in an error queue completes only when the operator's retry in the page sends it back.
    /// </summary>
    protected override IEnumerable<KeyValuePair<string, string>> ExtraEnvironment(string service) =>
        service == "orders" ? [new("Orders__Reconciler__PendingBudget", "00:05:00")] : [];
}

/// <summary>One running EventShop (dashboard included) and one browser for the dashboard tests.</summary>
[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardSystem>, ICollectionFixture<ChromiumBrowser>
{
    public const string Name = "Dashboard in a browser";
}

/// <summary>
/// A system of its own for the test that kills a service: after a restart the service is cold for a while, and orders placed by
/// other tests in that window could time out.
/// </summary>
[CollectionDefinition(Name)]
public sealed class DashboardOutageCollection : ICollectionFixture<DashboardSystem>, ICollectionFixture<ChromiumBrowser>
{
    public const string Name = "Dashboard in a browser, during an outage";
}
