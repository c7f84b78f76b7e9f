using Yarp.ReverseProxy.Configuration;

namespace EventShop.Gateway.Proxy;

/// <summary>
/// Settings every cluster shares, written once in <c>ReverseProxyClusterDefaults</c> (YARP's configuration has no inheritance):
/// a cluster without a <c>HealthCheck</c> block gets the default one, and default metadata fills the keys it does not set.
/// </summary>
public sealed class ClusterDefaults(IConfiguration configuration) : IProxyConfigFilter
{
    public const string Section = "ReverseProxyClusterDefaults";

    readonly HealthCheckConfig? _healthCheck = configuration.GetSection($"{Section}:HealthCheck").Get<HealthCheckConfig>();
    readonly Dictionary<string, string> _metadata =
        configuration.GetSection($"{Section}:Metadata").Get<Dictionary<string, string>>() ?? [];

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        var metadata = new Dictionary<string, string>(_metadata);
        foreach (var (key, value) in cluster.Metadata ?? new Dictionary<string, string>())
            metadata[key] = value;
        return ValueTask.FromResult(cluster with { HealthCheck = cluster.HealthCheck ?? _healthCheck, Metadata = metadata });
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) =>
        ValueTask.FromResult(route);
}
