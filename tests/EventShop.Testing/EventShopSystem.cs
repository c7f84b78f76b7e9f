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

    /// <summary>How often the saga sends a compensation before it ends CompensationFailed: few, so that path ends quickly in tests (10 in the product).</summary>
    public const int MaxCompensationAttempts = 4;

    /// <summary>Short so timeout paths finish quickly in tests; the product default is 30 s.</summary>
    protected virtual TimeSpan StepTimeout => TimeSpan.FromSeconds(8);

    /// <summary>Fault injection (<c>/api/faults</c>, ADR 0014): on, as in the local run; a production-like fixture turns it off.</summary>
    protected virtual bool FaultsEnabled => true;

    /// <summary>
    /// The profile (ADR 0020): Development, a developer's machine as the local run is; a production-like fixture runs every
    /// process in Production, where neither dev tokens nor fault injection exist whatever the rest of the configuration says.
    /// </summary>
    protected virtual string EnvironmentName => "Development";

    /// <summary>
    /// Run each service as the launchers do (ADR 0020): the service holds only its runtime role and is started first, so it
    /// must wait for its database's migrations; then its <c>migrate</c> command applies them as the owner role. Off, the
    /// service gets the owner's connection string too and migrates at start (quicker: one process less per service).
    /// </summary>
    protected virtual bool MigrateSeparately => false;

    /// <summary>The services whose start waited for their migrations to be applied (with <see cref="MigrateSeparately"/>).</summary>
    public IReadOnlyList<string> ServicesThatWaitedForMigrations => _waitedForMigrations;

    readonly List<string> _waitedForMigrations = [];

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

        var instances = Services
            .SelectMany(s => Enumerable.Range(1, IsReplicated(s.Name) ? Replicas : 1).Select(replica => (Service: s, Replica: replica)))
            .ToList();
        var ports = instances.ToDictionary(i => ProcessName(i.Service.Name, i.Replica), _ => TestInfrastructure.FreeTcpPort());
        foreach (var ((name, project, database), replica) in instances)
        {
            var process = ProcessName(name, replica);
            _processes[process] = new ServiceProcess(process, project, ports[process], Environment(name, replica, database, ports))
            {
                Supervise = Supervise,
                NetworkNamespace = NetworkNamespaceOf(process),
            };
        }

        // The services first (they migrate their own databases, or wait for their migrate command), then the gateway in
        // front of them. Further replicas start once the first of each is up, so two processes never apply the same
        // migrations at once.
        var first = _processes.Values.Where(p => p.Name != "gateway" && !p.Name.Contains('#')).ToList();
        var others = _processes.Values.Where(p => p.Name.Contains('#')).ToList();
        foreach (var process in first)
            process.Start();
        if (MigrateSeparately)
            await Task.WhenAll(Services.Where(s => s.Database != "").Select(s => MigrateWhileTheServiceWaitsAsync(s.Name, s.Database)));
        await Task.WhenAll(first.Select(p => p.WaitHealthyAsync(TimeSpan.FromSeconds(180))));
        foreach (var process in others)
            process.Start();
        _processes["gateway"].Start();
        await Task.WhenAll(others.Append(_processes["gateway"]).Select(p => p.WaitHealthyAsync(TimeSpan.FromSeconds(120))));
    }

    /// <summary>
    /// How many processes run each service that has a database (orders, accounts, points, sagas): competing consumers on the
    /// same queues, sharing the service's database, each on its port, all behind the gateway. The gateway and the dashboard run one.
    /// </summary>
    protected virtual int Replicas => 1;

    static bool IsReplicated(string service) => Services.Any(s => s.Name == service && s.Database != "");

    /// <summary>The process name of a service's replica: the service's own name for the first, <c>orders#2</c> for the second.</summary>
    public static string ProcessName(string service, int replica) => replica == 1 ? service : $"{service}#{replica}";

    /// <summary>Every running or killed process of <paramref name="service"/>, the first replica first.</summary>
    public IReadOnlyList<ServiceProcess> ReplicasOf(string service) =>
        Enumerable.Range(1, IsReplicated(service) ? Replicas : 1).Select(replica => _processes[ProcessName(service, replica)]).ToList();

    Dictionary<string, string> Environment(string name, int replica, string database, Dictionary<string, int> ports)
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
            ["Saga__MaxCompensationAttempts"] = MaxCompensationAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Orders asks the saga again about an order Pending this long (ADR 0008); a step timeout here, minutes in production.
            ["Orders__Reconciler__PendingBudget"] = StepTimeout.ToString("c"),
            ["Orders__Reconciler__Interval"] = "00:00:01",
            // The gateway's continuous invariant check (ADR 0013): every second, so a test sees a fresh verdict soon.
            ["Invariants__Interval"] = "00:00:01",
            // Each service looks at its error queues every second (5 s in production), so the invariants' count of messages
            // waiting for an operator follows a test's discard within a verdict or two (ADR 0008 point 9).
            ["Messaging__Redelivery__Interval"] = "00:00:01",
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
            if (!MigrateSeparately)
                environment[$"ConnectionStrings__{database}Migrations"] = OwnerConnectionString(database);
        }
        foreach (var cluster in Services.Select(s => s.Name).Where(n => n != "gateway"))
        {
            // Every replica is a destination of the gateway's cluster (it balances and health-checks them).
            for (var r = 1; r <= (IsReplicated(cluster) ? Replicas : 1); r++)
                environment[$"ReverseProxy__Clusters__{cluster}__Destinations__{(r == 1 ? "primary" : $"replica{r}")}__Address"] =
                    $"http://{AddressOf(ProcessName(cluster, r))}:{ports[ProcessName(cluster, r)]}";
            // Where one service calls another directly (the dashboard and the saga host, for operators' lists and actions).
            environment[$"Services__{cluster}"] = $"http://{AddressOf(cluster)}:{ports[cluster]}";
        }
        foreach (var (key, value) in ExtraEnvironment(name).Concat(ReplicaEnvironment(name, replica)))
            environment[key] = value;
        return environment;
    }

    string OwnerConnectionString(string database) =>
        Database.As(_roles[database].Owner, _roles[database].OwnerPassword).ConnectionString(DatabaseName(database));

    /// <summary>
    /// Waits until the started service says it is waiting for its migrations (so the test sees that wait, not a race), then runs
    /// its <c>migrate</c> command as the owner role.
    /// </summary>
    async Task MigrateWhileTheServiceWaitsAsync(string name, string database)
    {
        var process = _processes[name];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!process.RecentOutput.Contains("Waiting for the migrations to be applied", StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline || !process.IsRunning)
                throw new InvalidOperationException($"{name} did not wait for its migrations:\n{process.RecentOutput}");
            await Task.Delay(100);
        }
        lock (_waitedForMigrations)
            _waitedForMigrations.Add(name);
        await process.RunCommandAsync("migrate", new Dictionary<string, string> { [$"ConnectionStrings__{database}Migrations"] = OwnerConnectionString(database) },
            TimeSpan.FromSeconds(120));
    }

    /// <summary>
    /// The broker identity <paramref name="service"/> runs as: its own user where infra/broker-permissions names it, else (the
    /// dashboard, which reads every error queue, and any service on a private broker) the fixture's administrator.
    /// </summary>
    public BrokerEndpoint BrokerUserOf(string service) => _brokerUsers.GetValueOrDefault(service, Broker);

    /// <summary>The gateway's <c>Invariants:ClockTolerance</c> here (the product default): a run counts orders settled twice this before it.</summary>
    public static readonly TimeSpan InvariantsClockTolerance = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Messages waiting in this system's <c>_error</c> and <c>_skipped</c> queues, by queue (only queues holding some), as
    /// the management API counts them (they lag by up to its statistics interval, 5 s).
    /// </summary>
    public virtual async Task<IReadOnlyDictionary<string, long>> ParkedMessagesAsync()
    {
        // The broker's own counts (ready and unacknowledged; refreshed every few seconds), not a get-and-requeue of each
        // message: every requeue counts as a delivery of a quorum queue's message, and at the error queue's delivery limit
        // the broker drops it as a dead-letter cycle, so a test polling this would lose the messages it counts (issue 22).
        using var http = TestInfrastructure.ManagementClient(Broker);
        var queues = await http.GetFromJsonAsync<System.Text.Json.JsonElement[]>(
            $"api/queues/{Uri.EscapeDataString(VirtualHost)}?columns=name,messages") ?? [];
        return queues
            .Select(q => (Name: q.GetProperty("name").GetString()!, Messages: q.TryGetProperty("messages", out var m) && m.ValueKind == System.Text.Json.JsonValueKind.Number ? m.GetInt64() : 0))
            .Where(q => IsParkingQueue(q.Name) && q.Messages > 0)
            .ToDictionary(q => q.Name, q => q.Messages);
    }

    public static bool IsParkingQueue(string queue) =>
        queue.EndsWith("_error", StringComparison.Ordinal) || queue.EndsWith("_skipped", StringComparison.Ordinal);

    /// <summary>
    /// The network namespace a process runs in (a partition test's, <see cref="NetworkPartition"/>), null for the host's: the
    /// other processes then reach it at the namespace's address, and the fixture points it at servers the namespace can reach.
    /// </summary>
    protected virtual NetworkPartition? NetworkNamespaceOf(string process) => null;

    string AddressOf(string process) => NetworkNamespaceOf(process)?.NamespaceAddress.ToString() ?? "127.0.0.1";

    /// <summary>Lets a fixture change one service's configuration (for example a shorter poll interval).</summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> ExtraEnvironment(string service) => [];

    /// <summary>Lets a fixture change one replica's configuration only (1 is the first), after <see cref="ExtraEnvironment"/>.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> ReplicaEnvironment(string service, int replica) => [];

    /// <summary>SIGKILL to one process: a service's name for its (first) process, <c>orders#2</c> for another replica.</summary>
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
