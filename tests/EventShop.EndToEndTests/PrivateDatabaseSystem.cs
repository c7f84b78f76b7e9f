using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>The whole system on a PostgreSQL of its own, so the test can crash the database under it.</summary>
#pragma warning disable CA1001 // the node is disposed in DisposeAsync (xUnit IAsyncLifetime)
public sealed class PrivateDatabaseSystem : EventShopSystem
{
    readonly PrivatePostgresNode _node = new();

    public PrivatePostgresNode Node => _node;

    protected override DatabaseEndpoint? PrivateDatabase => _node.Endpoint;

    // The sweeper raises a timeout again this soon (30 s in production), so a timeout lost while the database was away
    // is retried within the test's budget.
    protected override IEnumerable<KeyValuePair<string, string>> ExtraEnvironment(string service) =>
        [new("Saga__TimeoutRepeat", "00:00:05")];

    public override async Task InitializeAsync()
    {
        await _node.StartAsync();
        // A failed start disposes the system, this DisposeAsync included: the node with it.
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _node.DisposeAsync();
    }
}
#pragma warning restore CA1001
