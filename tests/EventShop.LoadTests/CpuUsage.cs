using System.Globalization;

namespace EventShop.LoadTests;

/// <summary>CPU seconds used so far, per EventShop service and for the broker, the database server and the whole machine (Linux /proc).</summary>
public sealed record CpuSnapshot(IReadOnlyDictionary<string, double> Seconds, IReadOnlyList<string> Services, double MachineBusySeconds, double MachineTotalSeconds);

/// <summary>
/// CPU milliseconds per accepted order over one phase, how busy the machine was meanwhile (other users included), and each
/// EventShop service's share of the services' CPU. The shares are for comparing runs: on a shared machine the CPU time
/// of an order drifts by a fifth between identical runs, and mostly for every process alike, so a change to one service
/// shows in its share long before it shows in throughput (docs/benchmark.md).
/// </summary>
public sealed record CpuPerOrder(IReadOnlyDictionary<string, double> MillisecondsPerOrder, IReadOnlyDictionary<string, double> ShareOfServices,
    double MachineBusyShare, int Cores)
{
    /// <summary>Everything measured: the services, the broker, the database and the load generator.</summary>
    public double AllMilliseconds => MillisecondsPerOrder.Values.Sum();

    /// <summary>What an order costs outside EventShop's own services: the broker, the database and the load generator.</summary>
    public double InfrastructureMilliseconds => CpuUsage.Infrastructure.Sum(name => MillisecondsPerOrder.GetValueOrDefault(name));

    /// <summary>Orders/s the cores could carry at this cost per order with nothing else running and no idle time.</summary>
    public double OrdersPerSecondAtFullUse => Cores * 1000 / AllMilliseconds;

    /// <summary>
    /// The same if the services cost nothing at all: a bound no change to their code can pass while the broker, the
    /// database and the load generator cost what they did here (messages and commits per order are the saga's design).
    /// </summary>
    public double OrdersPerSecondWithFreeServices => Cores * 1000 / InfrastructureMilliseconds;
}

public static class CpuUsage
{
    /// <summary>USER_HZ: /proc reports CPU time in these ticks, 100 on every Linux we run on.</summary>
    const double TicksPerSecond = 100;

    const string Broker = "rabbitmq (shared)";
    const string Database = "postgres (shared)";
    const string LoadGenerator = "load generator";

    /// <summary>The processes that are not EventShop services.</summary>
    public static readonly IReadOnlyList<string> Infrastructure = [Broker, Database, LoadGenerator];

    public static CpuSnapshot Read(string? pidDirectory)
    {
        var seconds = new Dictionary<string, double>();
        var services = new List<string>();
        if (pidDirectory is not null && Directory.Exists(pidDirectory))
        {
            foreach (var file in Directory.GetFiles(pidDirectory).Order())
            {
                if (int.TryParse(File.ReadAllText(file).Trim(), out var pid) && ProcessSeconds(pid) is { } used)
                {
                    seconds[Path.GetFileName(file)] = used;
                    services.Add(Path.GetFileName(file));
                }
            }
        }

        // The broker and the database are shared with anything else on this machine: their figures include other users' work.
        seconds[Broker] = ProcessesNamed(comm => comm == "beam.smp").Sum(pid => ProcessSeconds(pid) ?? 0);
        seconds[Database] = ProcessesNamed(comm => comm.StartsWith("postgres", StringComparison.Ordinal)).Sum(pid => ProcessSeconds(pid) ?? 0);
        seconds[LoadGenerator] = ProcessSeconds(Environment.ProcessId) ?? 0;

        var machine = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        var idle = machine[3] + machine[4];
        var total = machine.Take(8).Sum();
        return new CpuSnapshot(seconds, services, (total - idle) / TicksPerSecond, total / TicksPerSecond);
    }

    public static CpuPerOrder PerOrder(CpuSnapshot before, CpuSnapshot after, int orders)
    {
        var perOrder = after.Seconds.ToDictionary(x => x.Key,
            x => orders == 0 ? double.NaN : (x.Value - before.Seconds.GetValueOrDefault(x.Key)) * 1000 / orders);
        var servicesTotal = after.Services.Sum(name => perOrder[name]);
        var shares = after.Services.ToDictionary(name => name, name => servicesTotal > 0 ? perOrder[name] / servicesTotal : double.NaN);
        var total = after.MachineTotalSeconds - before.MachineTotalSeconds;
        return new CpuPerOrder(perOrder, shares, total <= 0 ? double.NaN : (after.MachineBusySeconds - before.MachineBusySeconds) / total,
            Environment.ProcessorCount);
    }

    static double? ProcessSeconds(int pid)
    {
        try
        {
            // Fields after the command name (which may contain spaces, hence the last ')'): utime and stime are the 14th and 15th.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    static IEnumerable<int> ProcessesNamed(Func<string, bool> match)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
                continue;
            string comm;
            try
            {
                comm = File.ReadAllText(Path.Combine(directory, "comm")).Trim();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (match(comm))
                yield return pid;
        }
    }
}
