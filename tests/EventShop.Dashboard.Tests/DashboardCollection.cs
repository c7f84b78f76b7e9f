using EventShop.Testing;

namespace EventShop.Dashboard.Tests;

/// <summary>One running EventShop (dashboard included) and one browser for the dashboard tests.</summary>
[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<EventShopSystem>, ICollectionFixture<ChromiumBrowser>
{
    public const string Name = "Dashboard in a browser";
}
