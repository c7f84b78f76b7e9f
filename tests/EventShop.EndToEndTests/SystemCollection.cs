using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>One running EventShop shared by the tests of this collection (they use their own accounts, so they do not interfere).</summary>
[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<EventShopSystem>
{
    public const string Name = "EventShop system";
}
