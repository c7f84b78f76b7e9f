using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventShop.Messaging.Hosting;

/// <summary>
/// Restarts the bus when a receive endpoint stays down while the broker is reachable (another endpoint, the bus's own at
/// least, is connected). MassTransit reconnects each endpoint on its own, but after a broker that went away several times
/// under load some endpoints stayed down for good (issue 22's broker flapping test: three of Accounts' four endpoints still
/// "Broker unreachable" two minutes after the broker was back, their orders stuck in a compensation). A stopped and started
/// bus builds every endpoint anew. ADR 0008.
/// </summary>
public sealed class ReceiveEndpointWatchdog(IBusControl bus, TimeSpan budget, ILogger<ReceiveEndpointWatchdog> logger) : BackgroundService
{
    readonly Dictionary<string, DateTime> _downSince = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (budget <= TimeSpan.Zero)
            return;

        var backOff = budget;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var stuck = StuckEndpoints(bus.CheckHealth(), DateTime.UtcNow, backOff);
            if (stuck.Count == 0)
            {
                if (_downSince.Count == 0)
                    backOff = budget;
                continue;
            }

            logger.LogError("Receive endpoints {Endpoints} have been down for {Budget} while the broker is reachable; restarting the bus",
                string.Join(", ", stuck), backOff);
            try
            {
                using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                stopping.CancelAfter(TimeSpan.FromSeconds(30));
                await bus.StopAsync(stopping.Token);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(exception, "The bus did not stop cleanly; starting it again anyway");
            }

            // Started in the background, as at the service's start: a broker away again must not block this loop.
            _ = bus.StartAsync(stoppingToken).ContinueWith(
                started => logger.LogWarning(started.Exception, "The bus did not start again; the next check tries again"),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            _downSince.Clear();
            // A cause that a restart does not cure (a queue declared with other arguments) must not restart the bus every budget.
            backOff = backOff * 2 < TimeSpan.FromMinutes(10) ? backOff * 2 : TimeSpan.FromMinutes(10);
        }
    }

    /// <summary>Endpoints down longer than <paramref name="budget"/> while another is up; none while no endpoint is up (the broker is away).</summary>
    List<string> StuckEndpoints(BusHealthResult health, DateTime now, TimeSpan budget)
    {
        var reachable = health.Endpoints.Values.Any(endpoint => endpoint.Status == BusHealthStatus.Healthy);
        foreach (var (name, endpoint) in health.Endpoints)
        {
            if (endpoint.Status == BusHealthStatus.Healthy || !reachable)
                _downSince.Remove(name);
            else
                _downSince.TryAdd(name, now);
        }

        foreach (var gone in _downSince.Keys.Where(name => !health.Endpoints.ContainsKey(name)).ToList())
            _downSince.Remove(gone);
        return [.. _downSince.Where(down => now - down.Value >= budget).Select(down => down.Key)];
    }
}
