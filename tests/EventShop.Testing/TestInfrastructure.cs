using System.Net.Http.Json;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace EventShop.Testing;

/// <summary>Where the real broker and database for this test run are.</summary>
public sealed record BrokerEndpoint(string Host, int AmqpPort, int ManagementPort, string Username, string Password);

public sealed record DatabaseEndpoint(string Host, int Port, string Username, string Password)
{
    public string ConnectionString(string database, int maxPoolSize = 20) =>
        $"Host={Host};Port={Port};Database={database};Username={Username};Password={Password};Maximum Pool Size={maxPoolSize};SSL Mode=Disable;Include Error Detail=true";

    /// <summary>The same server as another role.</summary>
    public DatabaseEndpoint As(string username, string password) => this with { Username = username, Password = password };
}

/// <summary>
/// A service's two database roles (ADR 0020): the owner of its database, which runs the migrations, and the runtime role,
/// with DML on it only. Named after the database; the passwords are this run's own.
/// </summary>
public sealed record ServiceRoles(string Owner, string OwnerPassword, string Runtime, string RuntimePassword)
{
    public static ServiceRoles For(string database) =>
        new($"{database}_owner", NewPassword(), database, NewPassword());

    static string NewPassword() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
}

/// <summary>
/// One real RabbitMQ and one real PostgreSQL for the whole test process: Testcontainers when a Docker engine answers,
/// otherwise the local servers (EVENTSHOP_TEST_* variables, or the administrators infra/local/ensure-infra.sh sets up, with the
/// passwords it generated into .run/secrets: none is committed, ADR 0020).
/// Each fixture then takes its own vhost and databases from them, so test runs never see each other's messages or rows.
/// </summary>
public static class TestInfrastructure
{
    static readonly SemaphoreSlim Gate = new(1, 1);
    static (BrokerEndpoint Broker, DatabaseEndpoint Database)? _endpoints;

    public static async Task<(BrokerEndpoint Broker, DatabaseEndpoint Database)> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _endpoints ??= await ResolveAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    static async Task<(BrokerEndpoint, DatabaseEndpoint)> ResolveAsync()
    {
        if (DockerEngineAvailable())
            return await StartContainersAsync();

        var broker = new BrokerEndpoint(
            Env("EVENTSHOP_TEST_RABBITMQ_HOST", "localhost"), int.Parse(Env("EVENTSHOP_TEST_RABBITMQ_PORT", "5672")),
            int.Parse(Env("EVENTSHOP_TEST_RABBITMQ_MANAGEMENT_PORT", "15672")),
            Env("EVENTSHOP_TEST_RABBITMQ_USER", "eventshop-admin"), Env("EVENTSHOP_TEST_RABBITMQ_PASSWORD", Secret("rabbitmq-admin")));
        var database = new DatabaseEndpoint(
            Env("EVENTSHOP_TEST_POSTGRES_HOST", "localhost"), int.Parse(Env("EVENTSHOP_TEST_POSTGRES_PORT", "5432")),
            Env("EVENTSHOP_TEST_POSTGRES_USER", "eventshop_admin"), Env("EVENTSHOP_TEST_POSTGRES_PASSWORD", Secret("postgres-admin")));

        await RequireReachableAsync(broker, database);
        return (broker, database);
    }

    static async Task RequireReachableAsync(BrokerEndpoint broker, DatabaseEndpoint database)
    {
        var problems = new List<string>();
        if (!await PortOpenAsync(broker.Host, broker.AmqpPort) || !await PortOpenAsync(broker.Host, broker.ManagementPort))
            problems.Add($"RabbitMQ is not reachable at {broker.Host}:{broker.AmqpPort} (management {broker.ManagementPort})");
        try
        {
            await using var connection = new NpgsqlConnection(database.ConnectionString("postgres"));
            await connection.OpenAsync();
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            problems.Add($"PostgreSQL is not usable at {database.Host}:{database.Port} as '{database.Username}': {e.Message}");
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                "The integration tests need a real RabbitMQ and PostgreSQL and will not skip without them.\n  - " + string.Join("\n  - ", problems) +
                "\nStart them with: infra/local/ensure-infra.sh   (or run the whole suite with: infra/eventshop test)" +
                "\nor point the tests elsewhere with EVENTSHOP_TEST_RABBITMQ_HOST/_PORT/_USER/_PASSWORD and EVENTSHOP_TEST_POSTGRES_HOST/_PORT/_USER/_PASSWORD.");
        }
    }

    static bool DockerEngineAvailable()
    {
        if (Environment.GetEnvironmentVariable("EVENTSHOP_TEST_USE_LOCAL") == "1")
            return false;
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 })
            return true;
        if (!File.Exists("/var/run/docker.sock"))
            return false;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint("/var/run/docker.sock"));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    static async Task<(BrokerEndpoint, DatabaseEndpoint)> StartContainersAsync()
    {
        // Throwaway servers: a password of this run's own.
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var rabbit = new RabbitMqBuilder("rabbitmq:3.13-management").WithUsername("eventshop-admin").WithPassword(password)
            .WithPortBinding(15672, true).Build();
        var postgres = new PostgreSqlBuilder("postgres:16").WithUsername("eventshop_admin").WithPassword(password)
            .WithCommand("-c", "max_connections=400").Build();
        await Task.WhenAll(rabbit.StartAsync(), postgres.StartAsync());
        return (new BrokerEndpoint(rabbit.Hostname, rabbit.GetMappedPublicPort(5672), rabbit.GetMappedPublicPort(15672), "eventshop-admin", password),
            new DatabaseEndpoint(postgres.Hostname, postgres.GetMappedPublicPort(5432), "eventshop_admin", password));
    }

    static async Task<bool> PortOpenAsync(string host, int port)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await client.ConnectAsync(host, port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A password infra/local/ensure-infra.sh generated (EVENTSHOP_SECRETS_DIR, by default .run/secrets); "" when it has not run.</summary>
    static string Secret(string name)
    {
        var directory = Env("EVENTSHOP_SECRETS_DIR", Path.Combine(RepositoryLayout.Root, ".run", "secrets"));
        var file = Path.Combine(directory, name);
        return File.Exists(file) ? File.ReadAllText(file).Trim() : "";
    }

    static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;

    /// <summary>Creates a vhost of our own on the broker (management API) and grants the test user everything on it.</summary>
    public static async Task CreateVirtualHostAsync(BrokerEndpoint broker, string vhost)
    {
        using var http = ManagementClient(broker);
        (await http.PutAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}", null)).EnsureSuccessStatusCode();
        var permissions = new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json");
        (await http.PutAsync($"api/permissions/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(broker.Username)}", permissions)).EnsureSuccessStatusCode();
    }

    /// <summary>A broker user of its own for one service on <paramref name="vhost"/>, with only <paramref name="permissions"/> there.</summary>
    public static async Task<BrokerEndpoint> CreateBrokerUserAsync(BrokerEndpoint broker, string vhost, string user, BrokerPermissions permissions)
    {
        using var http = ManagementClient(broker);
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        (await http.PutAsJsonAsync($"api/users/{Uri.EscapeDataString(user)}", new { password, tags = "" })).EnsureSuccessStatusCode();
        (await http.PutAsJsonAsync($"api/permissions/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(user)}",
            new { configure = permissions.Configure, write = permissions.Write, read = permissions.Read })).EnsureSuccessStatusCode();
        return broker with { Username = user, Password = password };
    }

    public static async Task DeleteBrokerUserAsync(BrokerEndpoint broker, string user)
    {
        using var http = ManagementClient(broker);
        await http.DeleteAsync($"api/users/{Uri.EscapeDataString(user)}");
    }

    public static async Task DeleteVirtualHostAsync(BrokerEndpoint broker, string vhost)
    {
        using var http = ManagementClient(broker);
        await http.DeleteAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}");
    }

    public static HttpClient ManagementClient(BrokerEndpoint broker)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://{broker.Host}:{broker.ManagementPort}/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{broker.Username}:{broker.Password}")));
        return http;
    }

    public static async Task CreateDatabaseAsync(DatabaseEndpoint database, string name)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A service's database as a deployment has it (ADR 0020): owned by the owner role, <c>CONNECT</c> revoked from
    /// <c>PUBLIC</c> and granted to the runtime role, which gets DML (and sequences, schemas, functions) on whatever the
    /// owner's migrations create, and no DDL. The administrator joins both roles: to create a database for the owner, to
    /// read and change rows in tests, and to end their sessions when the database is dropped.
    /// </summary>
    public static async Task CreateServiceDatabaseAsync(DatabaseEndpoint database, string name, ServiceRoles roles)
    {
        await using (var connection = new NpgsqlConnection(database.ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await ExecuteAsync(connection, $"""
                CREATE ROLE "{roles.Owner}" LOGIN PASSWORD '{roles.OwnerPassword}';
                CREATE ROLE "{roles.Runtime}" LOGIN PASSWORD '{roles.RuntimePassword}';
                GRANT "{roles.Owner}", "{roles.Runtime}" TO CURRENT_USER;
                """);
            await ExecuteAsync(connection, $"CREATE DATABASE \"{name}\" OWNER \"{roles.Owner}\"");
            await ExecuteAsync(connection, $"""
                REVOKE ALL ON DATABASE "{name}" FROM PUBLIC;
                GRANT CONNECT, TEMPORARY ON DATABASE "{name}" TO "{roles.Runtime}";
                """);
        }
        // Unpooled: a pooled connection to the new database would outlive a test that crashes the server, and the test's
        // next read through the same connection string would get it back broken.
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.ConnectionString(name)) { Pooling = false }.ConnectionString))
        {
            await connection.OpenAsync();
            await ExecuteAsync(connection, $"""
                ALTER DEFAULT PRIVILEGES FOR ROLE "{roles.Owner}" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{roles.Runtime}";
                ALTER DEFAULT PRIVILEGES FOR ROLE "{roles.Owner}" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "{roles.Runtime}";
                ALTER DEFAULT PRIVILEGES FOR ROLE "{roles.Owner}" GRANT USAGE ON SCHEMAS TO "{roles.Runtime}";
                ALTER DEFAULT PRIVILEGES FOR ROLE "{roles.Owner}" GRANT EXECUTE ON FUNCTIONS TO "{roles.Runtime}";
                """);
        }
    }

    public static async Task DropServiceDatabaseAsync(DatabaseEndpoint database, string name, ServiceRoles roles)
    {
        await DropDatabaseAsync(database, name);
        await using var connection = new NpgsqlConnection(database.ConnectionString("postgres"));
        await connection.OpenAsync();
        await ExecuteAsync(connection, $"DROP ROLE IF EXISTS \"{roles.Runtime}\", \"{roles.Owner}\"");
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task DropDatabaseAsync(DatabaseEndpoint database, string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(database.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await command.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 40)
            {
                // FORCE may not end an autovacuum worker that is busy in this database (it has no role our user may
                // signal; PostgreSQL 15 then fails the whole DROP). The worker is done within moments on a test database.
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }
        }
    }

    /// <summary>
    /// A port nothing listens on, for a process about to start. Taken below the kernel's ephemeral range (32768 and up on
    /// Linux, 49152 and up elsewhere), not from bind(0): a port bind(0) handed out and released is soon reused as the
    /// source port of some outgoing connection (a service's to PostgreSQL, say), and the service meant to listen on it then
    /// fails with "address already in use". A random start keeps test runs that overlap apart.
    /// </summary>
    public static int FreeTcpPort()
    {
        for (var attempt = 0; attempt < PortRange; attempt++)
        {
            var port = FirstPort + (int)((uint)Interlocked.Increment(ref s_portCounter) % PortRange);
            try
            {
                var listener = new TcpListener(System.Net.IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (System.Net.Sockets.SocketException)
            {
                // in use: try the next one
            }
        }

        throw new InvalidOperationException($"No free TCP port in {FirstPort}-{FirstPort + PortRange - 1}");
    }

    const int FirstPort = 20_000;
    const int PortRange = 12_000;
    static int s_portCounter = Random.Shared.Next(PortRange);
}
