using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using EventShop.Infra;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace EventShop.Testing;

/// <summary>
/// The whole of EventShop (Orders, Accounts, Points, the saga host and the gateway) as real processes on a real broker and
/// database, in a vhost and databases of its own. Tests talk to it through the gateway like a client app does.
/// </summary>
public class EventShopSystem : IAsyncLifetime
{
    /// <summary>Every service from infra/services, the gateway last; Database is "" for a service without one.</summary>
    public static readonly (string Name, string Project, string Database)[] Services =
        ServiceListEntry.Load(RepositoryLayout.Root).Select(s => (s.Name, s.Project, s.Database ?? "")).ToArray();

    readonly string _runId = "t" + Guid.NewGuid().ToString("N")[..10];
    readonly Dictionary<string, ServiceProcess> _processes = new();
    /// <summary>Each service's broker user on this system's vhost (infra/broker-permissions); none on a private broker.</summary>
    readonly Dictionary<string, BrokerEndpoint> _brokerUsers = new();
    /// <summary>
    /// The token issuer's key pair of this run (ADR 0020). The fixture plays the issuer (as an OIDC provider would in
    /// production): it signs the tests' tokens, every process gets only the public key, and in the Development profile the
    /// gateway gets the private key for <c>/dev/token</c> and its own service token.
    /// </summary>
    readonly System.Security.Cryptography.ECDsa _issuerKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);

    public BrokerEndpoint Broker { get; private set; } = null!;
    public DatabaseEndpoint Database { get; private set; } = null!;
    public string VirtualHost => UsesPrivateBroker ? "/" : _runId;

    /// <summary>Set by fixtures that run on a broker of their own (to stop and start it).</summary>
    protected virtual BrokerEndpoint? PrivateBroker => null;

    bool UsesPrivateBroker => PrivateBroker is not null;

    /// <summary>Set by fixtures that run on a PostgreSQL of their own (to crash and restart it).</summary>
    protected virtual DatabaseEndpoint? PrivateDatabase => null;

    /// <summary>Short so timeout paths finish quickly in tests; the product default is 30 s.</summary>
    protected virtual TimeSpan StepTimeout => TimeSpan.FromSeconds(8);

    /// <summary>Fault injection (<c>/api/faults</c>, ADR 0014): on, as in the local run; a production-like fixture turns it off.</summary>
    protected virtual bool FaultsEnabled => true;

    /// <summary>
    /// The profile (ADR 0020): Development, a developer's machine as the local run is; a production-like fixture runs every
    /// process in Production, where neither dev tokens nor fault injection exist whatever the rest of the configuration says.
    /// </summary>
    protected virtual string EnvironmentName => "Development";

    /// <summary>Restart a service that died on its own (a crash fault), as the run command's supervisor does.</summary>
    protected virtual bool Supervise => false;

    public ServiceProcess this[string name] => _processes[name];
    public Uri GatewayAddress => _processes["gateway"].BaseAddress;

    public string DatabaseName(string service) => $"{_runId}_{service.ToLowerInvariant()}";

    /// <summary>The service's database as the administrator (a member of both its roles): tests read and change rows with it.</summary>
    public string ConnectionString(string service) => Database.ConnectionString(DatabaseName(service));

    /// <summary>The service's database roles (ADR 0020); the service runs as <see cref="ServiceRoles.Runtime"/>.</summary>
    public ServiceRoles Roles(string service) => _roles[service];

    /// <summary>The service's database as its runtime role, as the service itself connects.</summary>
    public string RuntimeConnectionString(string service, string? database = null) =>
        Database.As(_roles[service].Runtime, _roles[service].RuntimePassword).ConnectionString(DatabaseName(database ?? service));

    readonly Dictionary<string, ServiceRoles> _roles = new();

    public virtual async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            // xUnit does not dispose a fixture whose start failed: clean up here, or its processes would outlive the run.
            await DisposeAsync();
            throw;
        }
    }

    async Task StartAsync()
    {
        (Broker, Database) = await TestInfrastructure.GetAsync();
        if (PrivateBroker is { } privateBroker)
            Broker = privateBroker;
        else
        {
            await TestInfrastructure.CreateVirtualHostAsync(Broker, VirtualHost);
            foreach (var (service, permissions) in BrokerPermissions.Load())
                _brokerUsers[service] = await TestInfrastructure.CreateBrokerUserAsync(Broker, VirtualHost, $"{_runId}-{service}", permissions);
        }
        if (PrivateDatabase is { } privateDatabase)
            Database = privateDatabase;
        foreach (var (_, _, database) in Services.Where(s => s.Database != ""))
        {
            _roles[database] = ServiceRoles.For(DatabaseName(database));
            await TestInfrastructure.CreateServiceDatabaseAsync(Database, DatabaseName(database), _roles[database]);
        }

        var ports = Services.ToDictionary(s => s.Name, _ => TestInfrastructure.FreeTcpPort());
        foreach (var (name, project, database) in Services)
            _processes[name] = new ServiceProcess(name, project, ports[name], Environment(name, database, ports)) { Supervise = Supervise };

        // The services first (they migrate their own databases), then the gateway in front of them.
        foreach (var process in _processes.Values.Where(p => p.Name != "gateway"))
            process.Start();
        await Task.WhenAll(_processes.Values.Where(p => p.Name != "gateway").Select(p => p.WaitHealthyAsync(TimeSpan.FromSeconds(180))));
        _processes["gateway"].Start();
        await _processes["gateway"].WaitHealthyAsync(TimeSpan.FromSeconds(60));
    }

    Dictionary<string, string> Environment(string name, string database, Dictionary<string, int> ports)
    {
        var environment = new Dictionary<string, string>
        {
            ["Auth__PublicKey"] = IssuerPublicKey,
            ["RabbitMq__Host"] = Broker.Host,
            ["RabbitMq__Port"] = Broker.AmqpPort.ToString(),
            ["RabbitMq__VirtualHost"] = VirtualHost,
            ["RabbitMq__Username"] = BrokerUserOf(name).Username,
            ["RabbitMq__Password"] = BrokerUserOf(name).Password,
            ["RabbitMq__ManagementPort"] = Broker.ManagementPort.ToString(),
            ["Saga__StepTimeout"] = StepTimeout.ToString("c"),
            // Orders asks the saga again about an order Pending this long (ADR 0008); a step timeout here, minutes in production.
            ["Orders__Reconciler__PendingBudget"] = StepTimeout.ToString("c"),
            ["Orders__Reconciler__Interval"] = "00:00:01",
            // The gateway's continuous invariant check (ADR 0013): every second, so a test sees a fresh verdict soon.
            ["Invariants__Interval"] = "00:00:01",
            ["Invariants__ClockTolerance"] = InvariantsClockTolerance.ToString("c"),
            ["OTEL_SERVICE_NAME"] = name,
            ["ASPNETCORE_ENVIRONMENT"] = EnvironmentName,
            ["Faults__Enabled"] = FaultsEnabled ? "true" : "false",
        };
        if (name == "gateway" && EnvironmentName == "Development")
            environment["DevIssuer__PrivateKey"] = Convert.ToBase64String(_issuerKey.ExportPkcs8PrivateKey());
        if (database != "")
        {
            // The service runs as its runtime role and migrates as the owner (ADR 0020).
            var roles = _roles[database];
            environment[$"ConnectionStrings__{database}"] = Database.As(roles.Runtime, roles.RuntimePassword).ConnectionString(DatabaseName(database));
            environment[$"ConnectionStrings__{database}Migrations"] = Database.As(roles.Owner, roles.OwnerPassword).ConnectionString(DatabaseName(database));
        }
        foreach (var cluster in Services.Select(s => s.Name).Where(n => n != "gateway"))
        {
            environment[$"ReverseProxy__Clusters__{cluster}__Destinations__primary__Address"] = $"http://127.0.0.1:{ports[cluster]}";
            // Where one service calls another directly (the dashboard and the saga host, for operators' lists and actions).
            environment[$"Services__{cluster}"] = $"http://127.0.0.1:{ports[cluster]}";
        }
        foreach (var (key, value) in ExtraEnvironment(name))
            environment[key] = value;
        return environment;
    }

    /// <summary>
    /// The broker identity <paramref name="service"/> runs as: its own user where infra/broker-permissions names it, else (the
    /// dashboard, which reads every error queue, and any service on a private broker) the fixture's administrator.
    /// </summary>
    public BrokerEndpoint BrokerUserOf(string service) => _brokerUsers.GetValueOrDefault(service, Broker);

    /// <summary>The gateway's <c>Invariants:ClockTolerance</c> here (the product default): a run counts orders settled twice this before it.</summary>
    public static readonly TimeSpan InvariantsClockTolerance = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Messages waiting in this system's <c>_error</c> and <c>_skipped</c> queues, by queue (only queues holding some), read
    /// with the management API's get-and-requeue: its message counts lag by up to its statistics interval.
    /// </summary>
    public virtual async Task<IReadOnlyDictionary<string, long>> ParkedMessagesAsync()
    {
        using var http = TestInfrastructure.ManagementClient(Broker);
        var vhost = Uri.EscapeDataString(VirtualHost);
        var queues = await http.GetFromJsonAsync<System.Text.Json.JsonElement[]>($"api/queues/{vhost}?columns=name") ?? [];
        var parked = new Dictionary<string, long>();
        foreach (var name in queues.Select(q => q.GetProperty("name").GetString()!).Where(IsParkingQueue))
        {
            using var response = await http.PostAsJsonAsync($"api/queues/{vhost}/{Uri.EscapeDataString(name)}/get",
                new { count = 1000, ackmode = "ack_requeue_true", encoding = "auto" });
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
                continue;
            response.EnsureSuccessStatusCode();
            var messages = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement[]>() ?? []).Length;
            if (messages > 0)
                parked[name] = messages;
        }
        return parked;
    }

    public static bool IsParkingQueue(string queue) =>
        queue.EndsWith("_error", StringComparison.Ordinal) || queue.EndsWith("_skipped", StringComparison.Ordinal);

    /// <summary>Lets a fixture change one service's configuration (for example a shorter poll interval).</summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> ExtraEnvironment(string service) => [];

    public async Task KillAsync(string name) => await _processes[name].KillAsync();

    public async Task RestartAsync(string name)
    {
        await _processes[name].KillAsync();
        _processes[name].Start();
        await _processes[name].WaitHealthyAsync(TimeSpan.FromSeconds(90));
    }

    /// <summary>The public key every process verifies tokens with (base64 SubjectPublicKeyInfo): all a service's configuration holds.</summary>
    public string IssuerPublicKey => Convert.ToBase64String(_issuerKey.ExportSubjectPublicKeyInfo());

    /// <summary>A token signed with this run's issuer key (ES256), as the gateway's /dev/token would issue it.</summary>
    public string Token(string subject, params string[] roles)
    {
        var claims = new List<Claim> { new("sub", subject) };
        claims.AddRange(roles.Select(role => new Claim("role", role)));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "eventshop",
            Audience = "eventshop-api",
            Subject = new ClaimsIdentity(claims),
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(_issuerKey), SecurityAlgorithms.EcdsaSha256),
        });
    }

    public HttpClient Client(string? subject = null, params string[] roles)
    {
        var client = new HttpClient { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(90) };
        if (subject is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(subject, roles));
        return client;
    }

    public HttpClient Operator() => Client("test-operator", "operator");

    public HttpClient Customer(string customerId) => Client(customerId, "customer");

    public virtual async Task DisposeAsync()
    {
        foreach (var process in _processes.Values)
            await process.DisposeAsync();
        if (Database is null)
            return;
        foreach (var (_, _, database) in Services.Where(s => s.Database != ""))
        {
            if (_roles.TryGetValue(database, out var roles))
                await TestInfrastructure.DropServiceDatabaseAsync(Database, DatabaseName(database), roles);
        }
        if (!UsesPrivateBroker)
            await TestInfrastructure.DeleteVirtualHostAsync(Broker, VirtualHost);
        foreach (var user in _brokerUsers.Values)
            await TestInfrastructure.DeleteBrokerUserAsync(Broker, user.Username);
    }

    /// <summary>Output of every service, for assertion messages when something went wrong.</summary>
    public string Diagnostics() =>
        string.Join("\n", _processes.Values.Select(p => $"===== {p.Name} =====\n{p.RecentOutput}"));
}

public static class HttpClientJsonExtensions
{
    public static async Task<T> GetJsonAsync<T>(this HttpClient client, string uri)
    {
        var response = await client.GetAsync(uri);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }
}
