using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using EventShop.Accounts.Apis;
using EventShop.Accounts.Extensions;
using EventShop.Accounts.Infrastructure;
using EventShop.Messaging.Hosting;
using EventShop.Orders.Apis;
using EventShop.Orders.Extensions;
using EventShop.Orders.Infrastructure;
using EventShop.Points.Apis;
using EventShop.Points.Extensions;
using EventShop.Points.Infrastructure;
using EventShop.Sagas.Apis;
using EventShop.Sagas.Extensions;
using EventShop.Sagas.Infrastructure;
using EventShop.ServiceDefaults;
using EventShop.Testing;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenTelemetry.Trace;

namespace EventShop.IntegrationTests;

/// <summary>
/// The four services hosted in this process (same start-up code as their Program.cs) on the real broker and databases, with an
/// in-memory span exporter: one order must be one trace, from the HTTP request through every outbox relay and consumer.
/// </summary>
public sealed class DistributedTraceTests : IAsyncLifetime
{
    readonly IsolatedInfrastructure _infrastructure = new();
    readonly List<WebApplication> _apps = [];
    readonly SpanCollection _spans = new();
    readonly System.Security.Cryptography.ECDsa _issuerKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
    Uri _orders = null!;
    Uri _accounts = null!;

    public async Task InitializeAsync()
    {
        await _infrastructure.InitializeAsync();
        foreach (var service in new[] { "orders", "accounts", "points", "sagas" })
            await TestInfrastructure.CreateDatabaseAsync(_infrastructure.Database, $"{_infrastructure.Name}_{service}");

        _orders = await StartAsync("EventShop.Orders", "Orders", b => b.AddOrdersServices(), a => a.MapOrdersApi(),
            a => a.MigrateDatabaseAsync<OrdersDbContext>(), exportSpans: true);
        _accounts = await StartAsync("EventShop.Accounts", "Accounts", b => b.AddAccountsServices(), a => a.MapAccountsApi(),
            a => a.MigrateDatabaseAsync<AccountsDbContext>());
        await StartAsync("EventShop.Points", "Points", b => b.AddPointsServices(), a => a.MapPointsApi(), a => a.MigrateDatabaseAsync<PointsDbContext>());
        await StartAsync("EventShop.Sagas", "Sagas", b => b.AddSagasServices(), a => a.MapSagasApi(), a => a.MigrateDatabaseAsync<SagasDbContext>());
    }

    async Task<Uri> StartAsync(string applicationName, string database, Action<WebApplicationBuilder> addServices, Action<WebApplication> mapApi,
        Func<WebApplication, Task> migrate, bool exportSpans = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ApplicationName = applicationName, EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{database}"] = _infrastructure.Database.ConnectionString($"{_infrastructure.Name}_{database.ToLowerInvariant()}"),
            ["RabbitMq:Host"] = _infrastructure.Broker.Host,
            ["RabbitMq:Port"] = _infrastructure.Broker.AmqpPort.ToString(),
            ["RabbitMq:VirtualHost"] = _infrastructure.Name,
            ["RabbitMq:Username"] = _infrastructure.Broker.Username,
            ["RabbitMq:Password"] = _infrastructure.Broker.Password,
            ["Auth:PublicKey"] = Convert.ToBase64String(_issuerKey.ExportSubjectPublicKeyInfo()),
            ["Logging:Json"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.AddServiceDefaults();
        addServices(builder);
        // Activity sources are process-wide: one exporter sees the spans of all four services hosted here.
        if (exportSpans)
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans));

        var app = builder.Build();
        app.MapDefaultEndpoints();
        mapApi(app);
        await migrate(app);
        await app.StartAsync();
        _apps.Add(app);
        // The bus starts in the background (the host does not wait for it). Until the saga host's queues are bound, an
        // OrderSubmitted published by Orders would be routed nowhere, so the test waits as the process fixtures wait for /health.
        await app.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60));
        return new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    [Fact]
    public async Task Should_carry_one_trace_from_the_order_request_through_orders_saga_accounts_and_points()
    {
        using var operatorClient = Client(_accounts, "ops", "operator");
        (await operatorClient.PostAsJsonAsync("/api/accounts", new { accountId = "alice", kind = "customer", balance = 100m })).EnsureSuccessStatusCode();
        (await operatorClient.PostAsJsonAsync("/api/accounts", new { accountId = "shop", kind = "merchant", balance = 0m })).EnsureSuccessStatusCode();

        // The client's own span is the root: HttpClient propagates it (it would overwrite a hand-written traceparent header).
        using var clientSpan = new Activity("client submits order").SetIdFormat(ActivityIdFormat.W3C);
        clientSpan.ActivityTraceFlags = ActivityTraceFlags.Recorded; // a sampled client, as a real app with tracing would be
        clientSpan.Start();
        var traceId = clientSpan.TraceId;
        using var customer = Client(_orders, "alice", "customer");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/orders")
        {
            Content = JsonContent.Create(new { customerId = "alice", merchantId = "shop", items = new[] { new { sku = "A-1", quantity = 2, unitPrice = 12.50m } } }),
        };
        request.Headers.Add("Idempotency-Key", "trace-1");
        var accepted = await customer.SendAsync(request);
        accepted.EnsureSuccessStatusCode();
        var orderId = (await accepted.Content.ReadFromJsonAsync<OrderAccepted>())!.OrderId;
        clientSpan.Stop();

        var order = await customer.GetFromJsonAsync<OrderResponse>($"/api/orders/{orderId}?waitForCompletion=30");
        Assert.Equal("Completed", order!.Status);

        // Consumers hand-off through the outbox relay of each service; every hop must keep the trace id.
        string[] expectedConsumers = ["order-state", "debit-customer", "credit-merchant", "accrue-points", "order-completed"];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var trace = _spans.Snapshot().Where(span => span.TraceId == traceId).ToList();
            var missing = expectedConsumers.Where(queue => !trace.Any(span => Mentions(span, queue))).ToList();
            if (missing.Count == 0)
            {
                Assert.Contains(trace, span => span.Kind == ActivityKind.Server && span.DisplayName.Contains("/api/orders", StringComparison.Ordinal));
                return;
            }

            Assert.True(DateTime.UtcNow < deadline,
                $"trace {traceId} has no span for {string.Join(", ", missing)}; it has:\n" +
                string.Join("\n", trace.Select(s => $"{s.Source.Name} {s.Kind} {s.DisplayName}")));
            await Task.Delay(200);
        }
    }

    static bool Mentions(Activity span, string queue) =>
        span.DisplayName.Contains(queue, StringComparison.Ordinal) ||
        span.TagObjects.Any(tag => tag.Value?.ToString()?.Contains(queue, StringComparison.Ordinal) == true);

    HttpClient Client(Uri baseAddress, string subject, string role)
    {
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "eventshop",
            Audience = "eventshop-api",
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim("role", role)]),
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(_issuerKey), SecurityAlgorithms.EcdsaSha256),
        });
        var client = new HttpClient { BaseAddress = baseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async Task DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        foreach (var service in new[] { "orders", "accounts", "points", "sagas" })
            await TestInfrastructure.DropDatabaseAsync(_infrastructure.Database, $"{_infrastructure.Name}_{service}");
        await _infrastructure.DisposeAsync();
    }

    /// <summary>The exporter adds from whichever thread ends a span.</summary>
    sealed class SpanCollection : ICollection<Activity>
    {
        readonly List<Activity> _items = [];

        public List<Activity> Snapshot() { lock (_items) return [.. _items]; }
        public void Add(Activity item) { lock (_items) _items.Add(item); }
        public void Clear() { lock (_items) _items.Clear(); }
        public bool Contains(Activity item) { lock (_items) return _items.Contains(item); }
        public void CopyTo(Activity[] array, int arrayIndex) { lock (_items) _items.CopyTo(array, arrayIndex); }
        public bool Remove(Activity item) { lock (_items) return _items.Remove(item); }
        public int Count { get { lock (_items) return _items.Count; } }
        public bool IsReadOnly => false;
        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
