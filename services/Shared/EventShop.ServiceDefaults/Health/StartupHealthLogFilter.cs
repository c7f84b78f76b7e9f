using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace EventShop.ServiceDefaults.Health;

/// <summary>
/// While a service starts, its health checks fail by design (the bus is still connecting, the database migrating) and every
/// launcher asks <c>/health</c> once a second until they pass. Each failed check is logged as an Error by the health-check
/// service, so a normal start looked like an outage. Until the first healthy report (or the grace has passed, so a service
/// that never becomes healthy still says why) they are not logged; after that Degraded (Warning) and Unhealthy (Error) are.
/// The checks' Debug lines (one per probe) are never wanted, whatever the configured default level.
/// </summary>
public static class StartupHealthLogFilter
{
    public const string HealthCheckCategory = "Microsoft.Extensions.Diagnostics.HealthChecks";
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(90);

    static readonly long StartedAt = Stopwatch.GetTimestamp();
    static volatile bool _reportedHealthy;

    public static bool InStartup => !_reportedHealthy && Stopwatch.GetElapsedTime(StartedAt) < Grace;

    /// <summary>Called with every <c>/health</c> answer.</summary>
    public static void Observe(HealthStatus status)
    {
        if (status == HealthStatus.Healthy)
            _reportedHealthy = true;
    }

    public static void AddStartupHealthLogFilter(this ILoggingBuilder logging) =>
        logging.AddFilter(HealthCheckCategory, level => level >= LogLevel.Warning && !InStartup);
}
