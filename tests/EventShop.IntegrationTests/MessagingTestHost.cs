using System.Collections.Concurrent;
using EventShop.Messaging.Hosting;
using EventShop.Messaging.Outbox;
using EventShop.Messaging;
using EventShop.ServiceDefaults;
using EventShop.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventShop.IntegrationTests;

/// <summary>A service-like test database: one business table plus our outbox and inbox tables.</summary>
public sealed class ProbeDbContext(DbContextOptions<ProbeDbContext> options) : DbContext(options)
{
    public DbSet<ProbeRow> Rows => Set<ProbeRow>();
    public DbSet<CounterState> Counters => Set<CounterState>();
    public DbSet<MappedProbe> MappedProbes => Set<MappedProbe>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema("probe");
        modelBuilder.Entity<ProbeRow>().HasKey(x => x.Id);
        modelBuilder.Entity<CounterState>().ToTable("counter_states").HasKey(x => x.CorrelationId);
        modelBuilder.Entity<MappedProbe>(probe =>
        {
            probe.ToTable("mapped_probes");
            probe.HasKey(x => x.Id);
            probe.Property(x => x.Id).UseIdentityAlwaysColumn();
            probe.Property(x => x.Kind).HasConversion<string>().HasMaxLength(20).HasColumnName("kind_name");
            probe.Property(x => x.Amount).HasPrecision(18, 2);
            probe.Property(x => x.Payload).HasColumnType("jsonb");
        });
        modelBuilder.AddTransactionalMessaging();
    }
}

public sealed class ProbeRow
{
    public Guid Id { get; set; }
    public int Value { get; set; }
}

public enum ProbeKind { Plain, Special }

/// <summary>Columns of every kind our statement writer must bind as EF would: identity, converter, numeric, jsonb, nullable.</summary>
public sealed class MappedProbe
{
    public long Id { get; set; }
    public Guid Reference { get; set; }
    public ProbeKind Kind { get; set; }
    public decimal Amount { get; set; }
    public required string Payload { get; set; }
    public DateTimeOffset? At { get; set; }
    public string? Note { get; set; }
}

/// <summary>Records which messages reached the consumers of a host (in memory: the tests count deliveries).</summary>
public sealed class Deliveries
{
    public ConcurrentBag<(Guid MessageId, int Value)> Received { get; } = [];
}

/// <summary>
/// A real host with our messaging stack on a real RabbitMQ vhost and a real PostgreSQL database of its own:
/// bus configured exactly as the services configure it (AddEventShopBus), outbox relay, inbox filter.
/// </summary>
public sealed class MessagingTestHost : IAsyncDisposable
{
    readonly IHost _host;

    MessagingTestHost(IHost host, string connectionString)
    {
        _host = host;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }
    public IServiceProvider Services => _host.Services;
    public Deliveries Deliveries => Services.GetRequiredService<Deliveries>();
    public IBus Bus => Services.GetRequiredService<IBus>();

    public static async Task<MessagingTestHost> StartAsync(BrokerEndpoint broker, string vhost, string connectionString,
        Action<IBusRegistrationConfigurator> register, Dictionary<string, string?>? settings = null, bool waitUntilHealthy = true,
        Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RabbitMq:Host"] = broker.Host,
            ["RabbitMq:Port"] = broker.AmqpPort.ToString(),
            ["RabbitMq:VirtualHost"] = vhost,
            ["RabbitMq:Username"] = broker.Username,
            ["RabbitMq:Password"] = broker.Password,
            ["Messaging:Outbox:PollInterval"] = "00:00:00.200",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        if (settings is not null)
            builder.Configuration.AddInMemoryCollection(settings);

        builder.Services.AddSingleton<Deliveries>();
        builder.Services.AddDbContext<ProbeDbContext>(options => options.UseNpgsql(connectionString).LeaveFailedCommandsToTheirCallers());
        builder.Services.AddTransactionalMessaging<ProbeDbContext>(builder.Configuration);
        builder.AddEventShopBus(register);
        services?.Invoke(builder.Services);

        var host = builder.Build();
        await using (var scope = host.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<ProbeDbContext>().Database.EnsureCreatedAsync();
        await host.StartAsync();
        if (waitUntilHealthy)
            await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
        return new MessagingTestHost(host, connectionString);
    }

    /// <summary>A scope of its own, as an HTTP request or a background job gets: its <see cref="UnitOfWork"/> commits by itself.</summary>
    public AsyncServiceScope NewScope() => Services.CreateAsyncScope();

    /// <summary>
    /// Commits an outbox row in a transaction of its own without handing it to this host's relay: a row committed by
    /// another process, which only the poll can find.
    /// </summary>
    public async Task<OutboxMessage> CommitElsewhereAsync<T>(T message) where T : class
    {
        await using var db = NewDbContext();
        var row = OutboxRow(message);
        db.Add(row);
        await db.SaveChangesAsync();
        return row;
    }

    /// <summary>An outbox row as a unit of work writes it, for a test to insert by hand.</summary>
    public static OutboxMessage OutboxRow<T>(T message) where T : class =>
        OutboxSerializer.Create(message, typeof(T), SequentialIds.Next(), destinationAddress: null, correlationId: null,
            conversationId: NewId.NextGuid(), initiatorId: null);

    public ProbeDbContext NewDbContext() =>
        new(new DbContextOptionsBuilder<ProbeDbContext>().UseNpgsql(ConnectionString).LeaveFailedCommandsToTheirCallers().Options);

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var db = NewDbContext();
        return await db.Database.SqlQueryRaw<T>(sql).SingleAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>Each test class gets its own vhost and database on the real servers.</summary>
public sealed class IsolatedInfrastructure : IAsyncLifetime
{
    public string Name { get; } = "it" + Guid.NewGuid().ToString("N")[..10];
    public BrokerEndpoint Broker { get; private set; } = null!;
    public DatabaseEndpoint Database { get; private set; } = null!;
    public string ConnectionString => Database.ConnectionString(Name, maxPoolSize: 40);

    public async Task InitializeAsync()
    {
        (Broker, Database) = await TestInfrastructure.GetAsync();
        await TestInfrastructure.CreateVirtualHostAsync(Broker, Name);
        await TestInfrastructure.CreateDatabaseAsync(Database, Name);
    }

    public async Task DisposeAsync()
    {
        await TestInfrastructure.DropDatabaseAsync(Database, Name);
        await TestInfrastructure.DeleteVirtualHostAsync(Broker, Name);
    }

    public async Task<int> QueueDepthAsync(string queue)
    {
        using var http = TestInfrastructure.ManagementClient(Broker);
        for (var attempt = 0; ; attempt++)
        {
            var response = await http.GetAsync($"api/queues/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(queue)}");
            if (response.IsSuccessStatusCode)
            {
                var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                if (json.RootElement.TryGetProperty("messages", out var messages))
                    return messages.GetInt32();
            }

            if (attempt > 20)
                return -1;
            await Task.Delay(250);
        }
    }
}
