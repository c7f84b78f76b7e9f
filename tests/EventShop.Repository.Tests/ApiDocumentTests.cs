using System.Text.RegularExpressions;
using EventShop.Infra;
using EventShop.Testing;

namespace EventShop.Repository.Tests;

/// <summary>
/// docs/api.md is the public contract; the routes it names and the routes the services map in their Apis/ folders must be
/// the same, and the routes it marks as planned must not exist yet.
/// </summary>
public sealed partial class ApiDocumentTests
{
    const string OutsideApiHeading = "## Outside `/api`";
    const string PlannedHeading = "## Planned";

    [Fact]
    public void The_document_names_exactly_the_routes_the_services_map()
    {
        var (documented, _) = DocumentedRoutes();
        var mapped = MappedRoutes();

        Assert.True(documented.SetEquals(mapped),
            $"In docs/api.md but not mapped: {string.Join(", ", documented.Except(mapped))}; " +
            $"mapped but not in docs/api.md: {string.Join(", ", mapped.Except(documented))}");
    }

    [Fact]
    public void No_planned_route_is_mapped_yet()
    {
        var (_, planned) = DocumentedRoutes();

        Assert.NotEmpty(planned);
        Assert.Empty(planned.Intersect(MappedRoutes()));
    }

    [Fact]
    public void Mapped_routes_are_read_from_groups_and_from_the_application()
    {
        var routes = MappedRoutes(new Dictionary<string, string>
        {
            ["OrdersApi.cs"] = """
                var api = app.MapGroup("/api/orders").WithTags("Orders");
                api.MapPost("/", SubmitOrder);
                api.MapGet("/{orderId:guid}/events", StreamOrderStatus);
                app.MapPost("/dev/token", IssueToken).AllowAnonymous();
                """,
        });

        Assert.Equal(["GET /api/orders/{orderId}/events", "POST /api/orders", "POST /dev/token"], routes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_mapping_the_reader_does_not_understand_fails_instead_of_being_skipped()
    {
        var sources = new Dictionary<string, string> { ["X.cs"] = """app.MapGroup("/a").MapGet("/b", Handler);""" };

        Assert.Throws<InvalidOperationException>(() => MappedRoutes(sources));
    }

    static (HashSet<string> Documented, HashSet<string> Planned) DocumentedRoutes()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryLayout.Root, "docs", "api.md"));
        var outside = text.IndexOf(OutsideApiHeading, StringComparison.Ordinal);
        var planned = text.IndexOf(PlannedHeading, StringComparison.Ordinal);
        Assert.True(outside > 0 && planned > outside, $"docs/api.md must have the sections '{OutsideApiHeading}' and then '{PlannedHeading}'");
        return (Routes(text[..outside]), Routes(text[planned..]));

        static HashSet<string> Routes(string markdown) =>
            DocumentedRoute().Matches(markdown).Select(m => Normalize(m.Groups["method"].Value, m.Groups["path"].Value)).ToHashSet();
    }

    static HashSet<string> MappedRoutes() =>
        MappedRoutes(ServiceListEntry.Load(RepositoryLayout.Root)
            .Select(service => Path.Combine(RepositoryLayout.Root, service.Project, "Apis"))
            .Where(Directory.Exists)
            .SelectMany(directory => Directory.GetFiles(directory, "*.cs"))
            .ToDictionary(file => Path.GetRelativePath(RepositoryLayout.Root, file), File.ReadAllText));

    /// <summary>
    /// Reads <c>var x = app.MapGroup("prefix")</c> and <c>x.MapGet("path", ...)</c> / <c>app.MapPost("path", ...)</c>. Any other
    /// use of MapGroup or MapGet/Post/Put/Delete/Patch/Methods throws, so a new way of mapping cannot slip past the check.
    /// </summary>
    static HashSet<string> MappedRoutes(IReadOnlyDictionary<string, string> sources)
    {
        var routes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (file, source) in sources)
        {
            var groups = GroupDeclaration().Matches(source).ToDictionary(m => m.Groups["variable"].Value, m => m.Groups["prefix"].Value);
            var endpoints = EndpointMapping().Matches(source);
            if (groups.Count != AnyMapGroup().Count(source) || endpoints.Count != AnyEndpointMapping().Count(source))
                throw new InvalidOperationException($"{file} maps routes in a way this test does not read; teach it, or map them as the other Apis do");

            foreach (Match endpoint in endpoints)
            {
                var receiver = endpoint.Groups["receiver"].Value;
                var prefix = receiver == "app" ? "" : groups.TryGetValue(receiver, out var group)
                    ? group
                    : throw new InvalidOperationException($"{file}: '{receiver}' is not a route group declared in the file");
                routes.Add(Normalize(endpoint.Groups["method"].Value, prefix + endpoint.Groups["path"].Value));
            }
        }

        return routes;
    }

    /// <summary>"GET /api/orders/{orderId}": no route constraints, no trailing slash.</summary>
    static string Normalize(string method, string path)
    {
        path = RouteConstraint().Replace(path, "}");
        if (path.Length > 1)
            path = path.TrimEnd('/');
        return $"{method.ToUpperInvariant()} {path}";
    }

    [GeneratedRegex(@"`(?<method>GET|POST|PUT|DELETE|PATCH) (?<path>/[^`\s?]*)")]
    private static partial Regex DocumentedRoute();

    [GeneratedRegex(@"var (?<variable>\w+) = app\.MapGroup\(""(?<prefix>[^""]*)""\)")]
    private static partial Regex GroupDeclaration();

    [GeneratedRegex(@"\.MapGroup\(")]
    private static partial Regex AnyMapGroup();

    [GeneratedRegex(@"\b(?<receiver>\w+)\.Map(?<method>Get|Post|Put|Delete|Patch)\(""(?<path>[^""]*)""")]
    private static partial Regex EndpointMapping();

    [GeneratedRegex(@"\.Map(Get|Post|Put|Delete|Patch|Methods)\(")]
    private static partial Regex AnyEndpointMapping();

    [GeneratedRegex(@":[^}]*\}")]
    private static partial Regex RouteConstraint();
}
