using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy;

namespace EventShop.Gateway.Health;

/// <summary>
/// The gateway is ready when what it routes to is: each destination's own health endpoint is asked, at once and in parallel.
/// YARP's active probes (every 10 s, unhealthy after 3 failures) cannot say it: right after start every destination is
/// "unknown", and a gateway that answered 200 then sent the first POST to a service not yet listening (502).
/// </summary>
public sealed class DestinationsHealthCheck(IProxyStateLookup proxy) : IHealthCheck, IDisposable
{
    static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    // Not from IHttpClientFactory: its standard resilience pipeline would retry, and readiness must see the first failure.
    readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = ProbeTimeout };

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var probes = proxy.GetClusters()
            .SelectMany(cluster => cluster.Destinations.Values.Select(destination => (
                Name: $"{cluster.ClusterId}/{destination.DestinationId}",
                Uri: new Uri(new Uri(destination.Model.Config.Health ?? destination.Model.Config.Address),
                    cluster.Model.Config.HealthCheck?.Active?.Path ?? "/health"))))
            .Select(async probe => (probe.Name, Ready: await AnswersHealthyAsync(probe.Uri, cancellationToken)))
            .ToArray();
        var results = await Task.WhenAll(probes);

        var notReady = results.Where(x => !x.Ready).Select(x => x.Name).ToArray();
        var data = results.ToDictionary(x => x.Name, x => (object)(x.Ready ? "ready" : "not ready"));
        return notReady.Length == 0
            ? HealthCheckResult.Healthy($"{results.Length} destinations ready", data)
            : HealthCheckResult.Unhealthy($"not ready: {string.Join(", ", notReady)}", data: data);
    }

    async Task<bool> AnswersHealthyAsync(Uri uri, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(uri, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public void Dispose() => _http.Dispose();
}
