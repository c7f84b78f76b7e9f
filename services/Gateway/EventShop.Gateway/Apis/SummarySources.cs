namespace EventShop.Gateway.Apis;

/// <summary>The services the summary reads: the same ones the reverse proxy routes to (the first destination of each cluster).</summary>
public sealed class SummarySources(IConfiguration configuration) : IDisposable
{
    /// <summary>
    /// Not from IHttpClientFactory, whose defaults add the standard retry pipeline: a summary part should fail fast and be reported
    /// missing, not be retried past its short timeout. Trace context still flows (HttpClient instrumentation).
    /// </summary>
    public HttpClient Http { get; } = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) });

    public Uri AddressOf(string cluster) =>
        configuration.GetSection($"ReverseProxy:Clusters:{cluster}:Destinations").GetChildren()
            .Select(destination => destination["Address"]).FirstOrDefault(address => !string.IsNullOrEmpty(address)) is { } address
            ? new Uri(address)
            : throw new InvalidOperationException($"ReverseProxy:Clusters:{cluster} has no destination address");

    public void Dispose() => Http.Dispose();
}
