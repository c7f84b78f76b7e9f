using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// A running EventShop of its own for the invariant tests: they corrupt its databases on purpose (and repair them), which
/// must never be seen by tests that assert the invariants hold.
/// </summary>
[CollectionDefinition(Name)]
public sealed class InvariantsCollection : ICollectionFixture<EventShopSystem>
{
    public const string Name = "EventShop system for invariant tests";
}
