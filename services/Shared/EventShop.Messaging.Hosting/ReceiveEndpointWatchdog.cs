using EventShop.Messaging.Outbox;
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
/// counts from when the broker is reachable again. An endpoint that never came up counts as down once it has failed to
/// start (a fault with its exception, such as a queue whose declaration the broker refuses): a service whose endpoint
/// cannot start, with the broker accepting connections, is stuck. One still starting does not count: under load (the
/// 2-core test machine at load 20) a bus took over 7 s to start, and with a budget of 5 s the watchdog ended services in
/// the middle of a normal start (found by EndpointWatchdogTests).
/// </para>
/// </summary>
public sealed class ReceiveEndpointWatchdog(
    IBusControl bus,
    RabbitMqSettings settings,
    IHostApplicationLifetime lifetime,
    ILogger<ReceiveEndpointWatchdog> logger,
    PublishStall? stall = null) : BackgroundService
{
    /// <summary>EX_SOFTWARE: a receive endpoint stayed down, an internal error the process cannot recover from by itself.</summary>
    public const int ExitCode = 70;

    /// <summary>
    /// EX_IOERR: every publish of the outbox relay timed out. Its own code, so that a supervisor (and an operator reading its
    /// restarts) tells a stalled publishing channel from an endpoint that would not come back.
    /// </summary>
    public const int PublishStallExitCode = 74;

    static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(2);
    static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    readonly Dictionary<string, DateTime> _downSince = [];
    /// <summary>Endpoints seen up or faulted since the process started: from then on, not being up counts as down.</summary>
    readonly HashSet<string> _seenUpOrFaulted = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var budget = settings.EndpointRecoveryBudget;
        if (budget <= TimeSpan.Zero)
            return;

        using var timer = new PeriodicTimer(CheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var health = bus.CheckHealth();
            var down = DownEndpoints(health);
            if (stall?.Duration >= budget && await BrokerReachableAsync(stoppingToken))
            {
                logger.LogCritical(
                    "Every publish of the outbox relay has timed out for {Stall} while the broker accepts connections; ending the service (exit code {ExitCode}) for its supervisor to start it anew",
                    stall.Duration, PublishStallExitCode);
                EndService(PublishStallExitCode);
                return;
            }
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
                string.Join(", ", stuck.Select(name => $"{name} ({health.Endpoints[name].Description})")), budget, ExitCode);
            EndService(ExitCode);
            return;
        }
    }

    void EndService(int exitCode)
    {
        System.Environment.ExitCode = exitCode;
        lifetime.StopApplication();
    }

    List<string> DownEndpoints(BusHealthResult health)
    {
        foreach (var (name, endpoint) in health.Endpoints)
        {
            if (endpoint.Status == BusHealthStatus.Healthy || endpoint.Exception is not null)
                _seenUpOrFaulted.Add(name);
        }

        return [.. health.Endpoints.Where(e => e.Value.Status != BusHealthStatus.Healthy && _seenUpOrFaulted.Contains(e.Key)).Select(e => e.Key)];
    }

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
