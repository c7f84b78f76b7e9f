using System.Net.Sockets;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventShop.Messaging.Hosting;

/// <summary>
/// Ends the service (exit code <see cref="ExitCode"/>, for its supervisor to start it anew) when a receive endpoint stays
/// down while the broker accepts connections. MassTransit reconnects each endpoint on its own (retries up to 30 s apart),
/// but after a broker that went away under load some endpoints stayed down for good, their orders stuck (issue 22).
/// <para>
/// Why not restart the bus in-process, as this watchdog first did: MassTransit's bus start skips an endpoint whose state
/// is Faulted (its "started" check counts Faulted as started), so a stopped and started bus brings back only the endpoints
/// that were up, and the stop cancels the reconnect loop of those that were down. In issue 22's kill -9 runs every
/// endpoint that was down at the restart stayed down until the test ended. A new process builds every endpoint anew. ADR 0008.
/// </para>
/// <para>
/// The broker counts as reachable only when a TCP connection to it succeeds, not when some endpoint reports Healthy: the
/// bus's own (temporary) endpoint kept reporting Healthy with the broker killed, and the time an endpoint is down only
/// counts from when the broker is reachable again. Endpoints that never came up since the service started count as down
/// too: a service whose endpoints are not ready a budget after its start, with the broker accepting connections, is stuck.
/// </para>
/// </summary>
public sealed class ReceiveEndpointWatchdog(
    IBusControl bus,
    RabbitMqSettings settings,
    IHostApplicationLifetime lifetime,
    ILogger<ReceiveEndpointWatchdog> logger) : BackgroundService
{
    /// <summary>EX_SOFTWARE: an internal error the process cannot recover from by itself.</summary>
    public const int ExitCode = 70;

    static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(2);
    static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    readonly Dictionary<string, DateTime> _downSince = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var budget = settings.EndpointRecoveryBudget;
        if (budget <= TimeSpan.Zero)
            return;

        using var timer = new PeriodicTimer(CheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var down = DownEndpoints(bus.CheckHealth());
            if (down.Count == 0 || !await BrokerReachableAsync(stoppingToken))
            {
                // Nothing down, or the broker is away: MassTransit's own reconnects are the cure, no budget is spent.
                _downSince.Clear();
                continue;
            }

            var now = DateTime.UtcNow;
            foreach (var gone in _downSince.Keys.Except(down).ToList())
                _downSince.Remove(gone);
            foreach (var name in down)
                _downSince.TryAdd(name, now);

            var stuck = _downSince.Where(d => now - d.Value >= budget).Select(d => d.Key).ToList();
            if (stuck.Count == 0)
                continue;

            logger.LogCritical(
                "Receive endpoints {Endpoints} have been down for {Budget} while the broker accepts connections; ending the service (exit code {ExitCode}) for its supervisor to start it anew",
                string.Join(", ", stuck), budget, ExitCode);
            System.Environment.ExitCode = ExitCode;
            lifetime.StopApplication();
            return;
        }
    }

    static List<string> DownEndpoints(BusHealthResult health) =>
        [.. health.Endpoints.Where(e => e.Value.Status != BusHealthStatus.Healthy).Select(e => e.Key)];

    async Task<bool> BrokerReachableAsync(CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(settings.Host, settings.Port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}
