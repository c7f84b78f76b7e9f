using EventShop.Testing;
using Xunit.Abstractions;

namespace EventShop.EndToEndTests;

/// <summary>
/// The whole system on a broker and a PostgreSQL of its own, with Accounts in a network namespace of its own
/// (<see cref="NetworkPartition"/>): it reaches both servers across a veth, which a test can cut (packets dropped, not
/// refused) and heal. Everything else runs on the host and talks to Accounts over HTTP as usual, across the same veth but
/// another port, which no partition here touches. Accounts' calls to the saga host's audit trail (operators' adjustments,
/// not in these tests) would not reach it: the saga host listens on the host's loopback only.
/// </summary>
#pragma warning disable CA1001 // the nodes and the namespace are disposed in DisposeAsync (xUnit IAsyncLifetime)
public sealed class PartitionedAccountsSystem : EventShopSystem
{
    public const string Partitioned = "accounts";

    NetworkPartition? _partition;
    PrivateRabbitMqNode? _broker;
    PrivatePostgresNode? _database;

    public NetworkPartition Partition => _partition!;
    public PrivateRabbitMqNode BrokerNode => _broker!;
    public PrivatePostgresNode DatabaseNode => _database!;

    protected override BrokerEndpoint? PrivateBroker => _broker!.Endpoint;
    protected override DatabaseEndpoint? PrivateDatabase => _database!.Endpoint;

    protected override NetworkPartition? NetworkNamespaceOf(string process) => process == Partitioned ? _partition : null;

    // As the run command and docker compose do: a service that ended itself (ReceiveEndpointWatchdog) is started again.
    protected override bool Supervise => true;

    protected override IEnumerable<KeyValuePair<string, string>> ExtraEnvironment(string service)
    {
        // As the broker and database outage fixtures: the sweeper raises a lost timeout again this soon (30 s in production),
        // and an endpoint still down this long after the broker is reachable again ends its service (60 s in production).
        yield return new("Saga__TimeoutRepeat", "00:00:05");
        yield return new("RabbitMq__EndpointRecoveryBudget", "00:00:40");
        if (service != Partitioned)
            yield break;

        // Accounts reaches both servers at the host's end of its veth, the only way out of its namespace.
        var host = Partition.HostAddress.ToString();
        var roles = Roles("Accounts");
        var database = Database with { Host = host };
        yield return new("RabbitMq__Host", host);
        yield return new("ConnectionStrings__Accounts", database.As(roles.Runtime, roles.RuntimePassword).ConnectionString(DatabaseName("Accounts")));
        yield return new("ConnectionStrings__AccountsMigrations", database.As(roles.Owner, roles.OwnerPassword).ConnectionString(DatabaseName("Accounts")));
    }

    public override async Task InitializeAsync()
    {
        try
        {
            _partition = await NetworkPartition.CreateAsync();
            _broker = new PrivateRabbitMqNode { ReachableFrom = _partition };
            _database = new PrivatePostgresNode { ReachableFrom = _partition };
            await Task.WhenAll(_broker.StartAsync(), _database.StartAsync());
        }
        catch
        {
            await DisposeNetworkAsync();
            throw;
        }
        // A failed start disposes the system, this DisposeAsync included: the nodes and the namespace with it.
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            await DisposeNetworkAsync();
        }
    }

    async Task DisposeNetworkAsync()
    {
        if (_broker is not null)
            await _broker.DisposeAsync();
        if (_database is not null)
            await _database.DisposeAsync();
        if (_partition is not null)
            await _partition.DisposeAsync();
    }

    // The private node has no management plugin: rabbitmqctl counts every message, the unacknowledged ones included.
    public override async Task<IReadOnlyDictionary<string, long>> ParkedMessagesAsync() =>
        (await BrokerNode.QueueDepthsAsync()).Where(q => IsParkingQueue(q.Key) && q.Value > 0).ToDictionary(q => q.Key, q => q.Value);
}
#pragma warning restore CA1001

/// <summary>
/// Issue 22, item 8: a network partition between one service and the broker or its database, under load, longer than the
/// heartbeats and the in-process retries. Unlike a stopped or killed server, nothing answers: no reset, no refusal, the
/// connections in flight hang until a timeout or a heartbeat gives up on them.
/// </summary>
public sealed class NetworkPartitionTests(PartitionedAccountsSystem system, ITestOutputHelper output) : IClassFixture<PartitionedAccountsSystem>
{
    /// <summary>Longer than MassTransit's heartbeat (10 s, two missed end the connection) and the in-process retries (about 12 s).</summary>
    static readonly TimeSpan PartitionLength = TimeSpan.FromSeconds(25);

    [Fact]
    public Task When_Accounts_is_partitioned_from_the_broker_under_load_Should_end_every_accepted_order_and_keep_the_books_exact() =>
        PartitionUnderLoadAsync("the broker", "brokerpart", system.BrokerNode.Port);

    [Fact]
    public Task When_Accounts_is_partitioned_from_its_database_under_load_Should_end_every_accepted_order_and_keep_the_books_exact() =>
        PartitionUnderLoadAsync("its database", "dbpart", system.DatabaseNode.Port);

    async Task PartitionUnderLoadAsync(string from, string prefix, int port)
    {
        var batch = new OrderBatch(system, customerCount: 3, customerBalance: 100m, prefix: prefix);
        await batch.OpenAccountsAsync();

        await batch.SubmitWhileAsync(minimumOrders: 30, unitPrice: 7.50m, disruption: () => PartitionAsync(port));

        var settledAfter = await batch.AssertSettledAsync(TimeSpan.FromSeconds(120));
        output.WriteLine($"[fault battery] Accounts partitioned from {from} {PartitionLength.TotalSeconds:0} s: {batch.Accepted} orders " +
            $"({Outcomes(batch)}) all terminal {settledAfter.TotalSeconds:F1} s after the heal{SupervisorRestarts()}");
    }

    async Task PartitionAsync(int port)
    {
        // Some traffic before the cut: on a warm system the first orders complete, so the batch has both outcomes to account for.
        await Task.Delay(TimeSpan.FromSeconds(5));
        await system.Partition.PartitionAsync(port);
        try
        {
            await Task.Delay(PartitionLength);
            Assert.True(system[PartitionedAccountsSystem.Partitioned].IsRunning || system[PartitionedAccountsSystem.Partitioned].Restarts > 0,
                $"Accounts ended during the partition:\n{system[PartitionedAccountsSystem.Partitioned].RecentOutput}");
        }
        finally
        {
            await system.Partition.HealAsync();
        }
    }

    static string Outcomes(OrderBatch batch) =>
        string.Join(", ", batch.Outcomes.GroupBy(o => o.Status).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"));

    string SupervisorRestarts()
    {
        var restarted = EventShopSystem.Services.Where(s => system[s.Name].Restarts > 0).Select(s => $"{s.Name} {system[s.Name].Restarts}").ToList();
        return restarted.Count == 0 ? "" : $"; restarted by the supervisor: {string.Join(", ", restarted)}";
    }
}
