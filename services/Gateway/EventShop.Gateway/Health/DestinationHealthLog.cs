using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace EventShop.Gateway.Health;

/// <summary>
/// Logs each destination's active health once per change (became healthy, became unhealthy, recovered) instead of YARP's
/// warning with a stack trace for every failed probe: at start-up every destination fails a probe or two before it listens,
/// and a service that is down for a minute would otherwise log six stack traces. YARP's own probe log is set to Error
/// in appsettings.json; this is what an operator reads instead. A destination that was never healthy (the gateway started
/// first) is one Information line; a Warning means one that was healthy has stopped answering.
/// </summary>
public sealed partial class DestinationHealthLog(IProxyStateLookup proxy, ILogger<DestinationHealthLog> logger) : BackgroundService
{
    static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    readonly Dictionary<string, DestinationHealth> _last = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            LogChanges();
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    void LogChanges()
    {
        foreach (var cluster in proxy.GetClusters())
        {
            foreach (var destination in cluster.Destinations.Values)
            {
                var name = $"{cluster.ClusterId}/{destination.DestinationId}";
                var health = destination.Health.Active;
                var before = _last.GetValueOrDefault(name, DestinationHealth.Unknown);
                if (health == before)
                {
                    continue;
                }

                _last[name] = health;
                switch (health, before)
                {
                    case (DestinationHealth.Healthy, DestinationHealth.Unhealthy):
                        DestinationRecovered(name);
                        break;
                    case (DestinationHealth.Healthy, _):
                        DestinationHealthy(name);
                        break;
                    case (DestinationHealth.Unhealthy, DestinationHealth.Unknown):
                        // Never healthy yet: the gateway started before the service (the run command starts them together).
                        DestinationNotYetHealthy(name, destination.Model.Config.Address);
                        break;
                    case (DestinationHealth.Unhealthy, _):
                        DestinationUnhealthy(name, destination.Model.Config.Address);
                        break;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination {Destination} is healthy")]
    partial void DestinationHealthy(string destination);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination {Destination} recovered")]
    partial void DestinationRecovered(string destination);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination {Destination} ({Address}) is not healthy yet: waiting for it to start")]
    partial void DestinationNotYetHealthy(string destination, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Destination {Destination} ({Address}) is unhealthy: its health endpoint failed the active probes")]
    partial void DestinationUnhealthy(string destination, string address);
}
