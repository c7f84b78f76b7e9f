using System.Net;
using System.Net.Sockets;
using EventShop.Testing;
using RabbitMQ.Client;

namespace EventShop.EndToEndTests;

/// <summary>
/// What `docker compose up` gives the broker, without Docker: `infra/eventshop compose-env` run into a directory of the test's
/// own (never the developer's .env), and the definitions it generated loaded at boot by a private node, as compose's broker
/// loads them (infra/docker/rabbitmq.conf). Each user then logs in with the password .env gives it.
/// </summary>
#pragma warning disable CA1001 // the node is disposed in DisposeAsync (xUnit IAsyncLifetime)
public sealed class ComposeBroker : IAsyncLifetime
{
    readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("eventshop-compose-");
    PrivateRabbitMqNode? _node;
    Dictionary<string, string> _environment = [];

    public PrivateRabbitMqNode Node => _node ?? throw new InvalidOperationException("not started");

    /// <summary>The password .env holds for eventshop-NAME (admin, operator or a service).</summary>
    public string PasswordOf(string name) => _environment[$"EVENTSHOP_RABBIT_{name.ToUpperInvariant()}_PASSWORD"];

    public Task<IConnection> ConnectAsync(string name) =>
        BrokerClient.ConnectAsync("localhost", Node.Port, "eventshop", $"eventshop-{name}", PasswordOf(name));

    public async Task InitializeAsync()
    {
        var (exitCode, log) = await RepositoryScript.RunAsync("infra/eventshop",
            new Dictionary<string, string> { ["EVENTSHOP_COMPOSE_DIR"] = _directory.FullName }, "compose-env");
        Assert.True(exitCode == 0, $"compose-env failed ({exitCode}): {log}");
        _environment = File.ReadAllLines(Path.Combine(_directory.FullName, ".env"))
            .Select(line => line.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);

        _node = new PrivateRabbitMqNode
        {
            WithManagement = true,
            DefinitionsFile = Path.Combine(_directory.FullName, ".run", "compose", "rabbitmq-definitions.json"),
        };
        await _node.StartAsync();
        await WaitForManagementAsync(_node.ManagementPort);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
            await _node.DisposeAsync();
        _directory.Delete(recursive: true);
    }

    internal static async Task WaitForManagementAsync(int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("localhost", port);
                return;
            }
            catch (SocketException) when (attempt < 60)
            {
                await Task.Delay(500);
            }
        }
    }
}
#pragma warning restore CA1001

public sealed class ComposeBrokerUserTests(ComposeBroker broker) : IClassFixture<ComposeBroker>
{
    /// <summary>An exchange each service publishes to, its own message.</summary>
    public static TheoryData<string, string> OwnPublishes => new()
    {
        { "orders", "EventShop.Contracts.Orders:OrderSubmitted" },
        { "accounts", "EventShop.Contracts.Accounts:CustomerDebited" },
        { "points", "EventShop.Contracts.Points:PointsAccrued" },
        { "sagas", "EventShop.Contracts.Accounts:DebitCustomer" },
    };

    [Fact]
    public async Task Every_service_of_infra_broker_permissions_Should_log_in_as_its_own_user_with_the_password_from_env()
    {
        var services = BrokerPermissions.Load().Keys.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(OwnPublishes.Select(row => (string)row[0]).Order(StringComparer.Ordinal), services);

        foreach (var service in services)
        {
            await using var connection = await broker.ConnectAsync(service);
            Assert.True(connection.IsOpen, service);
            // A bus user, no management tag: the management API does not let it in.
            Assert.Equal(HttpStatusCode.Unauthorized, (await BrokerClient.WhoAmIAsync(broker.Node.ManagementPort, $"eventshop-{service}", broker.PasswordOf(service))).Status);
        }
    }

    [Theory]
    [MemberData(nameof(OwnPublishes))]
    public async Task A_service_publishing_its_own_message_Should_be_confirmed(string service, string exchange)
    {
        await using var connection = await broker.ConnectAsync(service);
        await using (var channel = await connection.CreateChannelAsync())
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true);

        Assert.Null(await BrokerClient.PublishAsync(connection, exchange));
    }

    [Theory]
    [MemberData(nameof(BrokerPermissionTests.ForgedPublishes), MemberType = typeof(BrokerPermissionTests))]
    public async Task A_service_publishing_what_it_does_not_own_Should_be_refused(string service, string exchange)
    {
        // Declared by the administrator, so what refuses the publish is the permission, not a missing exchange.
        await using (var admin = await broker.ConnectAsync("admin"))
        await using (var channel = await admin.CreateChannelAsync())
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true);

        await using var connection = await broker.ConnectAsync(service);

        Assert.Equal((ushort?)BrokerClient.AccessRefused, await BrokerClient.PublishAsync(connection, exchange));
    }

    [Fact]
    public async Task The_operator_Should_be_a_management_user_and_not_an_administrator()
    {
        var (status, tags) = await BrokerClient.WhoAmIAsync(broker.Node.ManagementPort, "eventshop-operator", broker.PasswordOf("operator"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["management"], tags);
        Assert.Contains("administrator", (await BrokerClient.WhoAmIAsync(broker.Node.ManagementPort, "eventshop-admin", broker.PasswordOf("admin"))).Tags);
    }

    [Fact]
    public async Task No_default_user_Should_be_left()
    {
        var guest = await Record.ExceptionAsync(async () =>
            await (await BrokerClient.ConnectAsync("localhost", broker.Node.Port, "/", "guest", "guest")).DisposeAsync());

        Assert.True(BrokerClient.IsRefusedLogin(guest), $"guest was not refused: {guest}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await BrokerClient.WhoAmIAsync(broker.Node.ManagementPort, "guest", "guest")).Status);
    }
}
