using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry;

namespace EventShop.Gateway.Invariants;

/// <summary>
/// Runs the invariant check every <see cref="InvariantsSettings.Interval"/>, keeps the latest verdict for
/// <c>GET /api/invariants</c>, and exports it: <c>eventshop.invariants.checks</c> counts runs (by outcome),
/// <c>eventshop.invariants.failed</c> is 1 for each check that failed in the latest run and 0 for each that held.
/// </summary>
public sealed partial class InvariantMonitor : BackgroundService
{
    public const string MeterName = "EventShop.Invariants";

    readonly InvariantChecker _checker;
    readonly IOptions<InvariantsSettings> _settings;
    readonly ILogger<InvariantMonitor> _logger;
    readonly Counter<long> _runs;
    readonly Histogram<double> _duration;
    readonly SemaphoreSlim _running = new(1, 1);
    readonly HashSet<string> _reportedFailures = [];
    readonly long _startedAt = Stopwatch.GetTimestamp();
    bool _everyServiceAnswered;
    InvariantVerdict? _latest;

    /// <summary>
    /// How long after start a service that has not answered yet is taken for one still starting: the gateway may start
    /// before the services (the run command starts them all at once), and its first runs then find them unreachable. After
    /// this, or once every service has answered, every new failure is logged; one that never answers is reported by then.
    /// </summary>
    static readonly TimeSpan StartupGrace = TimeSpan.FromSeconds(90);

    public InvariantMonitor(InvariantChecker checker, IOptions<InvariantsSettings> settings, IMeterFactory meters, ILogger<InvariantMonitor> logger)
    {
        _checker = checker;
        _settings = settings;
        _logger = logger;
        var meter = meters.Create(MeterName);
        _runs = meter.CreateCounter<long>("eventshop.invariants.checks", description: "Runs of the continuous invariant check, by outcome");
        _duration = meter.CreateHistogram<double>("eventshop.invariants.duration", "s", "How long one run of the invariant check took");
        meter.CreateObservableGauge("eventshop.invariants.failed", ObserveFailed,
            description: "1 for each invariant that failed in the latest run, 0 for each that held");
    }

    public InvariantVerdict? Latest => Volatile.Read(ref _latest);

    /// <summary>
    /// The latest verdict; run now when the loop has not finished a run yet, or when the latest failed more than
    /// <see cref="FailedVerdictReuse"/> ago. A failure is what an operator acts on, so it is not shown for up to a whole
    /// interval after it ended: the first run of a cold start, made before every service answered, would otherwise stay red
    /// for 30 s. A verdict that held is kept for the interval.
    /// </summary>
    public async Task<InvariantVerdict> CurrentAsync(CancellationToken cancellationToken) =>
        Latest is { } latest && (latest.Ok || TimeProvider.System.GetUtcNow() - latest.CheckedAt < FailedVerdictReuse)
            ? latest
            : await RunOnceAsync(cancellationToken);

    static readonly TimeSpan FailedVerdictReuse = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_settings.Value.Interval);
        do
        {
            try
            {
                // Polling, not traffic (ADR 0011): a run makes no trace here, and tells the services not to make one.
                using (SuppressInstrumentationScope.Begin())
                    await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogRunFailed(_logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    async Task<InvariantVerdict> RunOnceAsync(CancellationToken cancellationToken)
    {
        await _running.WaitAsync(cancellationToken);
        try
        {
            var started = Stopwatch.GetTimestamp();
            var verdict = await _checker.RunAsync(cancellationToken);
            _duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _runs.Add(1, new KeyValuePair<string, object?>("outcome", verdict.Ok ? "ok" : "failed"));
            Volatile.Write(ref _latest, verdict);
            LogNewFailures(verdict);
            return verdict;
        }
        finally
        {
            _running.Release();
        }
    }

    /// <summary>
    /// Logs each check once when it starts failing (again after it held). While the system is starting (no run yet in which
    /// every service answered, within <see cref="StartupGrace"/>), a failure is an expected state, not news: nothing is logged
    /// and nothing is marked reported, so a failure that outlasts the start-up is logged then. The verdict and the metrics
    /// show every failure from the first run on.
    /// </summary>
    void LogNewFailures(InvariantVerdict verdict)
    {
        _everyServiceAnswered |= !verdict.Checks.Any(check => !check.Ok && check.Name.EndsWith(".answered", StringComparison.Ordinal));
        var starting = !_everyServiceAnswered && Stopwatch.GetElapsedTime(_startedAt) < StartupGrace;
        foreach (var check in verdict.Checks)
        {
            if (check.Ok)
                _reportedFailures.Remove(check.Name);
            else if (!starting && _reportedFailures.Add(check.Name))
                LogCheckFailed(_logger, check.Name, check.Detail);
        }
    }

    IEnumerable<Measurement<int>> ObserveFailed() =>
        Latest?.Checks.Select(x => new Measurement<int>(x.Ok ? 0 : 1, new KeyValuePair<string, object?>("check", x.Name))) ?? [];

    public override void Dispose()
    {
        _running.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Invariant {Check} failed: {Detail}")]
    static partial void LogCheckFailed(ILogger logger, string check, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Invariant check run failed")]
    static partial void LogRunFailed(ILogger logger, Exception exception);
}
