using Microsoft.Extensions.Configuration;

// EventShop on one machine with the Aspire dashboard: every service as a project resource, wired to the RabbitMQ and
// PostgreSQL that infra/local/ensure-infra.sh runs on this machine (no containers: there may be no engine).
// The configuration is the one `infra/eventshop start` passes, so both runs behave alike.
var builder = DistributedApplication.CreateBuilder(args);

// A plain value, not a parameter: the dashboard would take every span to "localhost" (PostgreSQL's too) for that resource.
var rabbitHost = builder.Configuration["EventShop:RabbitMq:Host"] ?? "localhost";
var rabbitUser = builder.AddParameter("rabbitmq-username", "eventshop");
var rabbitPassword = builder.AddParameter("rabbitmq-password", "eventshop", secret: true);
var signingKey = builder.AddParameter("signing-key", secret: true);

var orders = AddService<Projects.EventShop_Orders>("orders", 5101, "Orders");
var accounts = AddService<Projects.EventShop_Accounts>("accounts", 5102, "Accounts");
var points = AddService<Projects.EventShop_Points>("points", 5103, "Points");
var sagas = AddService<Projects.EventShop_Sagas>("sagas", 5104, "Sagas");
var dashboard = AddService<Projects.EventShop_Dashboard>("dashboard", 5105, connectionName: null);
var gateway = AddService<Projects.EventShop_Gateway>("gateway", 8080, connectionName: null);

foreach (var (name, service) in new[] { ("orders", orders), ("accounts", accounts), ("points", points), ("sagas", sagas), ("dashboard", dashboard) })
{
    // The gateway's appsettings point at the default ports; these follow whatever ports this run uses.
    gateway.WithEnvironment($"ReverseProxy__Clusters__{name}__Destinations__primary__Address", service.GetEndpoint("http"))
        .WaitFor(service);
}

await builder.Build().RunAsync();

IResourceBuilder<ProjectResource> AddService<TProject>(string name, int defaultPort, string? connectionName)
    where TProject : IProjectMetadata, new()
{
    // Fixed, unproxied ports (overridable: EventShop__Ports__orders=6101) so URLs, the gateway and the benchmark match the script run.
    var port = builder.Configuration.GetValue($"EventShop:Ports:{name}", defaultPort);
    var service = builder.AddProject<TProject>(name, launchProfileName: null)
        .WithHttpEndpoint(port: port, name: "http", isProxied: false)
        .WithHttpHealthCheck("/health")
        .WithEnvironment("ASPNETCORE_ENVIRONMENT", "Development")
        .WithEnvironment("Logging__Json", "false")
        .WithEnvironment("RabbitMq__Host", rabbitHost)
        .WithEnvironment("RabbitMq__Username", rabbitUser)
        .WithEnvironment("RabbitMq__Password", rabbitPassword)
        .WithEnvironment("Auth__SigningKey", signingKey);

    if (connectionName is not null)
    {
        // Value from the AppHost's ConnectionStrings:orders-db (appsettings.json, or env ConnectionStrings__orders-db);
        // handed to the service under the name it reads, ConnectionStrings:Orders.
        var database = builder.AddConnectionString($"{name}-db", environmentVariableName: $"ConnectionStrings__{connectionName}");
        service.WithReference(database);
    }

    return service;
}
