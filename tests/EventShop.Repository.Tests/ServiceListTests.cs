using System.Text.Json;
using System.Xml.Linq;
using EventShop.Infra;
using EventShop.Testing;
using YamlDotNet.RepresentationModel;

namespace EventShop.Repository.Tests;

/// <summary>
/// infra/services is the one list of services. infra/eventshop, the AppHost and EventShopSystem read it; the files below
/// cannot, so each is compared with it here: a service added, renamed or moved to another port in one place only fails.
/// </summary>
public sealed class ServiceListTests
{
    static readonly IReadOnlyList<ServiceListEntry> Services = ServiceListEntry.Load(RepositoryLayout.Root);

    static IEnumerable<ServiceListEntry> BehindTheGateway => Services.Where(s => s.Name != "gateway");

    static string Read(string relativePath) => File.ReadAllText(Path.Combine(RepositoryLayout.Root, relativePath));

    [Fact]
    public void The_list_has_unique_names_and_ports_existing_projects_and_the_gateway_last()
    {
        Assert.Equal(Services.Count, Services.Select(s => s.Name).Distinct().Count());
        Assert.Equal(Services.Count, Services.Select(s => s.Port).Distinct().Count());
        Assert.Equal("gateway", Services[^1].Name);
        foreach (var service in Services)
            Assert.True(File.Exists(Path.Combine(RepositoryLayout.Root, service.ProjectFile)), $"{service.Name}: {service.ProjectFile} does not exist");
    }

    [Fact]
    public void The_solution_builds_every_service()
    {
        var solution = Read("EventShop.sln").Replace('\\', '/');
        foreach (var service in Services)
            Assert.Contains($"\"{service.ProjectFile}\"", solution, StringComparison.Ordinal);
    }

    [Fact]
    public void The_AppHost_references_exactly_the_listed_projects()
    {
        var project = XDocument.Parse(Read("infra/EventShop.AppHost/EventShop.AppHost.csproj"));
        var referenced = project.Descendants("ProjectReference")
            .Select(reference => Path.GetRelativePath(RepositoryLayout.Root,
                Path.GetFullPath(Path.Combine(RepositoryLayout.Root, "infra/EventShop.AppHost", (string)reference.Attribute("Include")!))))
            .Order(StringComparer.Ordinal);

        Assert.Equal(Services.Select(s => s.ProjectFile).Order(StringComparer.Ordinal), referenced);
    }

    [Fact]
    public void Each_service_launch_profile_listens_on_its_listed_port()
    {
        foreach (var service in Services.Where(s => File.Exists(Path.Combine(RepositoryLayout.Root, s.Project, "Properties/launchSettings.json"))))
        {
            using var settings = JsonDocument.Parse(Read(Path.Combine(service.Project, "Properties/launchSettings.json")));
            foreach (var profile in settings.RootElement.GetProperty("profiles").EnumerateObject())
            {
                if (profile.Value.TryGetProperty("applicationUrl", out var url))
                    Assert.Equal($"http://localhost:{service.Port}", url.GetString());
            }
        }
    }

    [Fact]
    public void The_gateway_has_one_cluster_per_service_at_its_listed_port()
    {
        using var settings = JsonDocument.Parse(Read("services/Gateway/EventShop.Gateway/appsettings.json"));
        var clusters = settings.RootElement.GetProperty("ReverseProxy").GetProperty("Clusters");

        Assert.Equal(BehindTheGateway.Select(s => s.Name).Order(StringComparer.Ordinal),
            clusters.EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));
        foreach (var service in BehindTheGateway)
        {
            // Only the destinations: the rest of a cluster (health checks, timeouts) may take any shape.
            var addresses = clusters.GetProperty(service.Name).GetProperty("Destinations").EnumerateObject()
                .Select(d => d.Value.GetProperty("Address").GetString());
            Assert.All(addresses, address => Assert.Equal($"http://localhost:{service.Port}", address));
        }
    }

    [Fact]
    public void Docker_compose_runs_every_service_with_its_project_database_and_gateway_route()
    {
        var compose = new YamlStream();
        compose.Load(new StringReader(Read("docker-compose.yml")));
        var services = (YamlMappingNode)((YamlMappingNode)compose.Documents[0].RootNode)["services"];
        // Ours are the ones built from this repository (the migration jobs, built from a service's image, aside); the broker,
        // the database and the Aspire dashboard are images.
        var built = services.Children
            .Where(s => ((YamlMappingNode)s.Value).Children.ContainsKey("build") && !((YamlScalarNode)s.Key).Value!.EndsWith("-migrate", StringComparison.Ordinal))
            .ToDictionary(s => ((YamlScalarNode)s.Key).Value!, s => (YamlMappingNode)s.Value);

        Assert.Equal(Services.Select(s => s.Name).Order(StringComparer.Ordinal), built.Keys.Order(StringComparer.Ordinal));
        foreach (var service in Services)
        {
            var definition = built[service.Name];
            Assert.Equal($"{service.Project}/Dockerfile", Scalar(definition, "build", "dockerfile"));
            Assert.Equal(service.Name, Scalar(definition, "environment", "OTEL_SERVICE_NAME"));
            var connectionStrings = Keys(definition, "environment").Where(k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal));
            Assert.Equal(service.Database is null ? [] : [$"ConnectionStrings__{service.Database}"], connectionStrings);
        }

        var gateway = built["gateway"];
        var gatewayPort = Services.Single(s => s.Name == "gateway").Port;
        // Published on the host's loopback only (ADR 0020): a developer's compose is not reachable from the network.
        Assert.Contains($"127.0.0.1:{gatewayPort}:8080", ((YamlSequenceNode)gateway["ports"]).Children.Select(p => ((YamlScalarNode)p).Value));
        Assert.Equal(BehindTheGateway.Select(s => s.Name).Order(StringComparer.Ordinal),
            Keys(gateway, "depends_on").Where(built.ContainsKey).Order(StringComparer.Ordinal));
        foreach (var service in BehindTheGateway)
        {
            Assert.Equal($"http://{service.Name}:8080",
                Scalar(gateway, "environment", $"ReverseProxy__Clusters__{service.Name}__Destinations__primary__Address"));
        }

        var clusters = Keys(gateway, "environment").Where(k => k.StartsWith("ReverseProxy__Clusters__", StringComparison.Ordinal));
        Assert.Equal(BehindTheGateway.Count(), clusters.Count());
    }

    [Fact]
    public void Docker_compose_runs_each_service_as_its_own_broker_user_and_the_broker_with_no_default_user()
    {
        var compose = new YamlStream();
        compose.Load(new StringReader(Read("docker-compose.yml")));
        var root = (YamlMappingNode)compose.Documents[0].RootNode;
        var services = (YamlMappingNode)root["services"];
        YamlMappingNode Service(string name) => (YamlMappingNode)services[name];

        // ADR 0020: the users come from the definitions compose-env generates from infra/broker-permissions.
        foreach (var service in BrokerPermissions.Load().Keys)
        {
            Assert.Equal($"eventshop-{service}", Scalar(Service(service), "environment", "RabbitMq__Username"));
            Assert.StartsWith($"${{EVENTSHOP_RABBIT_{service.ToUpperInvariant()}_PASSWORD:?", Scalar(Service(service), "environment", "RabbitMq__Password"));
        }

        Assert.Equal("eventshop-operator", Scalar(Service("dashboard"), "environment", "RabbitMq__Username"));
        Assert.DoesNotContain("RabbitMq__Username", Keys(Service("gateway"), "environment"));
        Assert.DoesNotContain("RabbitMq__Username", ((YamlMappingNode)root["x-service-env"]).Children.Keys.Select(k => ((YamlScalarNode)k).Value));

        var broker = Service("rabbitmq");
        Assert.False(broker.Children.ContainsKey("environment"), "the broker's environment would hold a default user");
        var mounts = ((YamlSequenceNode)broker["volumes"]).Children.ToList();
        Assert.Contains(mounts.OfType<YamlScalarNode>(), m => m.Value!.StartsWith("./infra/docker/rabbitmq.conf:/etc/rabbitmq/conf.d/", StringComparison.Ordinal));
        var definitions = mounts.OfType<YamlMappingNode>().Single();
        Assert.Equal("./.run/compose/rabbitmq-definitions.json", ((YamlScalarNode)definitions["source"]).Value);
        Assert.Contains($"load_definitions = {((YamlScalarNode)definitions["target"]).Value}", Read("infra/docker/rabbitmq.conf").Split('\n'));
    }

    [Fact]
    public void Docker_compose_runs_each_service_as_its_runtime_role_after_a_migration_job_as_its_owner()
    {
        var compose = new YamlStream();
        compose.Load(new StringReader(Read("docker-compose.yml")));
        var services = (YamlMappingNode)((YamlMappingNode)compose.Documents[0].RootNode)["services"];
        YamlMappingNode Service(string name) => (YamlMappingNode)services[name];

        // ADR 0020: the service holds only its runtime role; its '<service>-migrate' job (same image) runs the migrations as
        // the owner, and the service starts once that job succeeded.
        foreach (var service in Services.Where(s => s.Database is not null))
        {
            var database = service.Database!;
            var running = Service(service.Name);
            var job = Service($"{service.Name}-migrate");
            var upper = service.Name.ToUpperInvariant();

            Assert.Equal([$"ConnectionStrings__{database}"], Keys(running, "environment").Where(k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal)));
            Assert.Contains($"Username=eventshop_{service.Name};Password=${{EVENTSHOP_DB_{upper}_PASSWORD:?", Scalar(running, "environment", $"ConnectionStrings__{database}"));
            Assert.Equal("service_completed_successfully", ((YamlScalarNode)((YamlMappingNode)((YamlMappingNode)running["depends_on"])[$"{service.Name}-migrate"])["condition"]).Value);

            Assert.Equal(((YamlScalarNode)running["image"]).Value, ((YamlScalarNode)job["image"]).Value);
            Assert.Equal(["migrate"], ((YamlSequenceNode)job["command"]).Children.Select(c => ((YamlScalarNode)c).Value));
            Assert.Contains($"Username=eventshop_{service.Name}_owner;Password=${{EVENTSHOP_DB_{upper}_OWNER_PASSWORD:?", Scalar(job, "environment", $"ConnectionStrings__{database}Migrations"));
        }
        Assert.DoesNotContain("EVENTSHOP_DB_USER", Read("docker-compose.yml"), StringComparison.Ordinal);
    }

    static string? Scalar(YamlMappingNode node, string section, string key) =>
        ((YamlMappingNode)node[section]).Children.TryGetValue(key, out var value) ? ((YamlScalarNode)value).Value : null;

    static IEnumerable<string> Keys(YamlMappingNode node, string section) =>
        ((YamlMappingNode)node[section]).Children.Keys.Select(k => ((YamlScalarNode)k).Value!);
}
