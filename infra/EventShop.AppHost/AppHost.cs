using System.Globalization;
using EventShop.Infra;
using Microsoft.Extensions.Configuration;

// EventShop on one machine with the Aspire dashboard: every service as a project resource, wired to the RabbitMQ and
// PostgreSQL that infra/local/ensure-infra.sh runs on this machine (no containers: there may be no engine).
// The configuration is the one `infra/eventshop start` passes, so both runs behave alike.
var builder = DistributedApplication.CreateBuilder(args);

// A plain value, not a parameter: the dashboard would take every span to "localhost" (PostgreSQL's too) for that resource.
var rabbitHost = builder.Configuration["EventShop:RabbitMq:Host"] ?? "localhost";
// The identities infra/local/ensure-infra.sh generated into .run/secrets; infra/eventshop passes them (ADR 0020: none is committed).
var operatorUser = builder.AddParameter("rabbitmq-operator-username", "eventshop-operator");
var operatorPassword = builder.AddParameter("rabbitmq-operator-password", secret: true);
// The development token issuer's keys (ADR 0020), files infra/eventshop generated: the gateway alone gets the private one.
var secrets = builder.Configuration["EventShop:SecretsDirectory"]
    ?? Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "..", ".run", "secrets"));
// The configuration infra/eventshop built (its CONFIGURATION, Release by default).
var buildConfiguration = builder.Configuration["EventShop:Configuration"] ?? "Release";

// The services, their projects, ports and databases come from infra/services, the list every run reads.
var services = ServiceListEntry.Load(Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "..")))
    .ToDictionary(entry => entry.Name, AddService);

foreach (var (name, service) in services.Where(pair => pair.Key != "gateway"))
{
    // The gateway's appsettings point at the default ports; these follow whatever ports this run uses.
    services["gateway"].WithEnvironment($"ReverseProxy__Clusters__{name}__Destinations__primary__Address", service.GetEndpoint("http"))
        .WaitFor(service);
}

await builder.Build().RunAsync();

IResourceBuilder<ExecutableResource> AddService(ServiceListEntry entry)
{
    // Fixed, unproxied ports (overridable: EventShop__Ports__orders=6101) so URLs, the gateway and the benchmark match the script run.
    var name = entry.Name;
    var port = builder.Configuration.GetValue($"EventShop:Ports:{name}", entry.Port);
    // The service's built dll, started as infra/eventshop start does. Not AddProject: Aspire starts a project with
    // 'dotnet run', which builds it again, six builds at once on a 2-core machine, and the run timed out waiting for health.
    // The AppHost's build has built every service already (they are its project references).
    var projectDirectory = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "..", entry.Project));
    var assembly = Path.Combine(projectDirectory, "bin", buildConfiguration, "net10.0", Path.GetFileName(entry.Project) + ".dll");
    var service = builder.AddExecutable(name, "dotnet", projectDirectory, assembly)
        .WithOtlpExporter()
        .WithHttpEndpoint(port: port, name: "http", isProxied: false)
        .WithEnvironment("ASPNETCORE_URLS", "http://localhost:" + port.ToString(CultureInfo.InvariantCulture))
        .WithEnvironment("OTEL_SERVICE_NAME", name)
        .WithHttpHealthCheck("/health")
        .WithEnvironment("ASPNETCORE_ENVIRONMENT", "Development")
        .WithEnvironment("Logging__Json", "false")
        .WithEnvironment("RabbitMq__Host", rabbitHost)
        .WithEnvironment("Auth__PublicKeyFile", Path.Combine(secrets, "dev-issuer.pub"))
        // Fault injection (/api/faults, ADR 0014): on for a developer's run, as in infra/eventshop start.
        .WithEnvironment("Faults__Enabled", "true");

    var brokerPassword = entry.Database is null ? null : builder.AddParameter($"rabbitmq-{name}-password", secret: true);

    // The gateway alone holds the dev issuer's private key; the dashboard reads the error queues as the operator; the services
    // with a database have a bus.
    if (name == "gateway")
        service.WithEnvironment("DevIssuer__PrivateKeyFile", Path.Combine(secrets, "dev-issuer.key"));
    else if (name == "dashboard")
        service.WithEnvironment("RabbitMq__Username", operatorUser).WithEnvironment("RabbitMq__Password", operatorPassword);
    else if (entry.Database is not null)
        // Each its own broker user, limited to its own queues and messages (infra/broker-permissions).
        service.WithEnvironment("RabbitMq__Username", "eventshop-" + name)
            .WithEnvironment("RabbitMq__Password", brokerPassword!);

    if (entry.Database is { } connectionName)
    {
        // Value from the AppHost's ConnectionStrings:orders-db (env ConnectionStrings__orders-db, which infra/eventshop sets);
        // handed to the service under the name it reads, ConnectionStrings:Orders.
        var database = builder.AddConnectionString($"{name}-db", environmentVariableName: $"ConnectionStrings__{connectionName}");
        service.WithReference(database);
        // The migrations run first, as their own resource with the owner role ('<service> migrate', ADR 0020); the service
        // starts once they completed and holds only its runtime role.
        var migrations = builder.AddConnectionString($"{name}-db-migrations", environmentVariableName: $"ConnectionStrings__{connectionName}Migrations");
        // It builds the service's whole container (whose DbContext wiring resolves the bus, not started), hence the bus settings.
        var migrate = builder.AddExecutable($"{name}-migrate", "dotnet", projectDirectory, assembly, "migrate")
            .WithEnvironment("ASPNETCORE_ENVIRONMENT", "Development")
            .WithEnvironment("Logging__Json", "false")
            .WithEnvironment("Auth__PublicKeyFile", Path.Combine(secrets, "dev-issuer.pub"))
            .WithEnvironment("RabbitMq__Host", rabbitHost)
            .WithEnvironment("RabbitMq__Username", "eventshop-" + name)
            .WithEnvironment("RabbitMq__Password", brokerPassword!)
            .WithEnvironment("Faults__Enabled", "true") // so it also creates the fault-rules table, which the runtime role may not
            .WithReference(database)
            .WithReference(migrations);
        service.WaitForCompletion(migrate);
    }

    return service;
}
