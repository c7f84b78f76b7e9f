using System.Globalization;
using System.Net;

namespace EventShop.LoadTests;

/// <summary>
/// Plain <c>--name value</c> arguments. The defaults are the bench profile (about two minutes on 2 cores):
/// limit probes, a max-throughput phase, then an offered 100 orders/s phase.
/// </summary>
public sealed class BenchOptions
{
    public Uri Gateway { get; private set; } = new("http://localhost:8080");
    public string[] Phases { get; private set; } = ["max", "rate"];

    public int Customers { get; private set; } = 100;
    /// <summary>Customers created with a zero balance: every order of theirs must end Cancelled (insufficient funds).</summary>
    public int RejectedCustomers { get; private set; } = 2;
    /// <summary>Share of orders sent by the zero-balance customers.</summary>
    public double RejectedShare { get; private set; } = 0.02;

    /// <summary>Max phase: this many orders in flight at once (each worker submits, follows to the end, submits the next).</summary>
    public int MaxConcurrency { get; private set; } = 64;
    public TimeSpan MaxDuration { get; private set; } = TimeSpan.FromSeconds(25);
    public int MaxOrders { get; private set; } = 20_000;

    /// <summary>Rate phase: submissions scheduled by the clock, never waiting for earlier responses (open loop).</summary>
    public double Rate { get; private set; } = 100;
    public TimeSpan RateDuration { get; private set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a phase may wait after its last submission for every order to end; what is still Pending then is stuck.</summary>
    public TimeSpan Drain { get; private set; } = TimeSpan.FromSeconds(45);

    /// <summary>Before the invariants are checked, how long to wait for orders still Pending (e.g. after an overload) to end.</summary>
    public TimeSpan SettleTimeout { get; private set; } = TimeSpan.FromSeconds(120);

    /// <summary>Load before the measured phases, so JIT compilation, tiering and pool growth are not measured as the system's cost.</summary>
    public TimeSpan WarmUp { get; private set; } = TimeSpan.FromSeconds(20);

    public bool Probes { get; private set; } = true;
    public TimeSpan ProbeDuration { get; private set; } = TimeSpan.FromSeconds(3);
    public int DatabaseProbeClients { get; private set; } = 16;

    public Uri RabbitManagement { get; private set; } = new("http://localhost:15672");
    public string RabbitHost { get; private set; } = "localhost";
    public int RabbitPort { get; private set; } = 5672;
    public string RabbitUser { get; private set; } = "eventshop-admin";
    public string RabbitPassword { get; private set; } = "";
    public string VirtualHost { get; private set; } = "eventshop";

    public string PostgresHost { get; private set; } = "localhost";
    public int PostgresPort { get; private set; } = 5432;
    public string PostgresUser { get; private set; } = "eventshop_admin";
    public string PostgresPassword { get; private set; } = "";
    public string[] Databases { get; private set; } = ["eventshop_orders", "eventshop_accounts", "eventshop_points", "eventshop_sagas"];

    public string OutputDirectory { get; private set; } = Path.Combine("results", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
    public string? PidDirectory { get; private set; }

    public const string Usage = """
        EventShop load generator (see docs/benchmark.md)
          --gateway URL             default http://localhost:8080 (loopback only)
          --phases max,rate         which load phases to run, in order
          --customers N             funded customers (default 100); --rejected-customers N (default 2); --rejected-share F (default 0.02)
          --max-concurrency N       orders in flight in the max phase (default 64)
          --max-duration S          seconds of the max phase (default 25); --max-orders N (default 20000)
          --rate R                  offered orders/s in the rate phase (default 100); --rate-duration S (default 20)
          --drain S                 seconds to wait for the last orders to end (default 45)
          --settle-timeout S        before checking invariants, wait this long at most for Pending orders to end (default 120)
          --warmup S                seconds of unmeasured load at full concurrency first (default 20: lets the JIT settle; its orders still count for the invariants)
          --no-probes               skip the broker and database limit probes; --probe-seconds S (default 3); --db-clients N (default 16)
          --out DIR                 where report.md, report.json and latency.svg go (default results/<timestamp>)
          --pids DIR                .run/pids of the running services, for their peak memory
          --rabbit-api URL, --rabbit-host H, --rabbit-port P, --rabbit-user U, --rabbit-password P, --vhost V
          --pg-host H, --pg-port P, --pg-user U, --pg-password P, --databases a,b,c
        """;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Number() => double.Parse(Value(), CultureInfo.InvariantCulture);
            TimeSpan Seconds() => TimeSpan.FromSeconds(Number());

            switch (args[i])
            {
                case "--gateway": options.Gateway = new Uri(Value()); break;
                case "--phases": options.Phases = Value().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--customers": options.Customers = (int)Number(); break;
                case "--rejected-customers": options.RejectedCustomers = (int)Number(); break;
                case "--rejected-share": options.RejectedShare = Number(); break;
                case "--max-concurrency": options.MaxConcurrency = (int)Number(); break;
                case "--max-duration": options.MaxDuration = Seconds(); break;
                case "--max-orders": options.MaxOrders = (int)Number(); break;
                case "--rate": options.Rate = Number(); break;
                case "--rate-duration": options.RateDuration = Seconds(); break;
                case "--drain": options.Drain = Seconds(); break;
                case "--warmup": options.WarmUp = Seconds(); break;
                case "--settle-timeout": options.SettleTimeout = Seconds(); break;
                case "--no-probes": options.Probes = false; break;
                case "--probe-seconds": options.ProbeDuration = Seconds(); break;
                case "--db-clients": options.DatabaseProbeClients = (int)Number(); break;
                case "--out": options.OutputDirectory = Value(); break;
                case "--pids": options.PidDirectory = Value(); break;
                case "--rabbit-api": options.RabbitManagement = new Uri(Value()); break;
                case "--rabbit-host": options.RabbitHost = Value(); break;
                case "--rabbit-port": options.RabbitPort = (int)Number(); break;
                case "--rabbit-user": options.RabbitUser = Value(); break;
                case "--rabbit-password": options.RabbitPassword = Value(); break;
                case "--vhost": options.VirtualHost = Value(); break;
                case "--pg-host": options.PostgresHost = Value(); break;
                case "--pg-port": options.PostgresPort = (int)Number(); break;
                case "--pg-user": options.PostgresUser = Value(); break;
                case "--pg-password": options.PostgresPassword = Value(); break;
                case "--databases": options.Databases = Value().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }

        options.Validate();
        return options;
    }

    void Validate()
    {
        // A load generator pointed at someone else's server is an attack: this one only ever talks to this machine.
        foreach (var host in new[] { Gateway.Host, RabbitManagement.Host, RabbitHost, PostgresHost })
        {
            if (!IsLoopback(host))
                throw new ArgumentException($"{host} is not a loopback address; the bench only runs against this machine");
        }

        if (Phases.Any(p => p is not ("max" or "rate")))
            throw new ArgumentException("--phases takes max and/or rate");
        if (Customers < 1 || MaxConcurrency < 1 || Rate <= 0 || RejectedShare is < 0 or >= 1)
            throw new ArgumentException("customers, max-concurrency and rate must be positive; rejected-share in [0, 1)");
        if (RejectedCustomers == 0)
            RejectedShare = 0;
    }

    /// <summary>A loopback address, or a Unix socket directory (an absolute path), which is local by definition.</summary>
    static bool IsLoopback(string host) =>
        host.StartsWith('/') || host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    public string PostgresConnectionString(string database, int maxPoolSize = 20) =>
        $"Host={PostgresHost};Port={PostgresPort};Database={database};Username={PostgresUser};Password={PostgresPassword};Maximum Pool Size={maxPoolSize};SSL Mode=Disable";
}
