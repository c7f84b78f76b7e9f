using System.Globalization;
using EventShop.LoadTests;

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception exception) when (exception is ArgumentException or FormatException or UriFormatException)
{
    Console.Error.WriteLine(exception.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

var startedAt = DateTimeOffset.UtcNow;
Directory.CreateDirectory(options.OutputDirectory);
Console.WriteLine($"EventShop bench against {options.Gateway}, results in {options.OutputDirectory}");

const string operatorId = "bench-operator";
using var api = new ShopApi(options.Gateway, maxConnections: options.MaxConcurrency + (int)(options.Rate * 5) + 16);
var (workload, initialBalances) = await CreateAccountsAsync();

var probes = new List<ProbeResult>();
if (options.Probes)
{
    // Before the load, while EventShop is idle, so the probes have the machine to themselves.
    var limitProbes = new LimitProbes(options);
    foreach (var probe in new Func<Task<ProbeResult>>[] { limitProbes.BrokerAsync, limitProbes.DatabaseAsync })
    {
        var result = await probe();
        probes.Add(result);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"probe {result.Name}: {result.PerSecond:0}/s, alone p50 {result.AloneMs.P50:0.00} ms p99 {result.AloneMs.P99:0.00} ms ({result.Setup})"));
    }
}

var warmUpSamples = new List<OrderSample>();
if (options.WarmUp > TimeSpan.Zero)
{
    Console.WriteLine($"warming up for {options.WarmUp.TotalSeconds:0} s (not measured)");
    var warmUp = new LoadPhase(api, workload, options);
    // Full concurrency: the services reach their optimised (tier-1) code sooner than under a light load.
    await warmUp.RunMaxAsync(options.MaxConcurrency, options.WarmUp, int.MaxValue, name: "warm");
    warmUpSamples.AddRange(warmUp.Samples);
    // The broker's statistics lag by up to 5 s: without this pause the first phase's "before" snapshot misses the warm-up's
    // last messages, and it would count them as that phase's work (docs/benchmark.md, "What the report contains").
    await Task.Delay(SystemCounters.SettleTime);
}

var counters = new SystemCounters(options);
var phases = new List<(LoadPhase Phase, PhaseResult Result)>();
foreach (var name in options.Phases)
{
    var before = await counters.ReadAsync();
    var cpuBefore = CpuUsage.Read(options.PidDirectory);
    var phase = new LoadPhase(api, workload, options);
    string load;
    if (name == "max")
    {
        load = $"max, {options.MaxConcurrency} in flight, {options.MaxDuration.TotalSeconds:0} s";
        await phase.RunMaxAsync(options.MaxConcurrency, options.MaxDuration, options.MaxOrders);
    }
    else
    {
        load = string.Create(CultureInfo.InvariantCulture, $"offered {options.Rate:0.#}/s open loop, {options.RateDuration.TotalSeconds:0} s");
        await phase.RunRateAsync(options.Rate, options.RateDuration);
    }

    var cpuAfter = CpuUsage.Read(options.PidDirectory);
    await Task.Delay(SystemCounters.SettleTime);
    var after = await counters.ReadAsync();
    var accepted = phase.Samples.Count(s => s.OrderId is not null);
    var result = PhaseResult.From(phase, load, SystemCounters.PerOrder(before, after, accepted), CpuUsage.PerOrder(cpuBefore, cpuAfter, accepted));
    phases.Add((phase, result));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"phase {name}: {result.Completed + result.Cancelled} settled, {result.SteadySettledPerSecond:0.0}/s steady, client p50 {result.ClientLatencyMs.P50:0} ms p99 {result.ClientLatencyMs.P99:0} ms, {result.NotSeenTerminal} not seen terminal, {result.Errors} errors"));
}

var allSamples = warmUpSamples.Concat(phases.SelectMany(p => p.Phase.Samples)).ToList();
Console.WriteLine("checking invariants");
var invariants = await Invariants.CheckAsync(api, operatorId, workload, initialBalances, allSamples, options.SettleTimeout);

// After the load, so these reads do not disturb what was measured.
var stepTimes = new List<PhaseStepTimes>();
foreach (var (phase, result) in phases)
    stepTimes.Add(await StepTimes.MeasureAsync(api, operatorId, result.Name, phase.Samples));

CeilingModel? ceiling = null;
double? achievedToCeiling = null;
var maxPhase = phases.Select(p => p.Result).FirstOrDefault(p => p.Name == "max");
var broker = probes.FirstOrDefault(p => p.Name == "broker");
var database = probes.FirstOrDefault(p => p.Name == "database");
if (maxPhase?.Work is { } work && broker is not null && database is not null)
{
    ceiling = new CeilingModel(work.MessagesPublished, work.Transactions, broker.PerSecond, database.PerSecond);
    achievedToCeiling = maxPhase.SteadySettledPerSecond / ceiling.OrdersPerSecond;
}

// The messages per order of the max phase, as for the ceiling; the rate phase's when only it ran.
LatencyFloor? latencyFloor = null;
var floorWork = maxPhase?.Work ?? phases.Select(p => p.Result.Work).FirstOrDefault(w => w is not null);
if (floorWork is not null && broker is not null && database is not null)
    latencyFloor = new LatencyFloor(floorWork.MessagesPublished, broker.AloneMs.P50, database.AloneMs.P50);

var report = new BenchReport(
    startedAt,
    $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
    probes,
    phases.Select(p => p.Result).ToList(),
    stepTimes,
    ceiling,
    achievedToCeiling,
    latencyFloor,
    invariants,
    BenchReport.ReadMemory(options.PidDirectory),
    allSamples.Where(s => s.Error is not null).Select(s => $"{s.Phase}: {s.Error}").Distinct().Take(10).ToList());

await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "report.json"), report.ToJson());
await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "report.md"), report.ToMarkdown());
await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "latency.svg"),
    LatencyPlot.Render(phases.Select(p => ($"{p.Result.Name}: {p.Result.Load}", p.Phase.Samples)).ToList()));
await File.WriteAllLinesAsync(Path.Combine(options.OutputDirectory, "progress.log"), phases.SelectMany(p => p.Phase.ProgressLines));

Console.WriteLine();
Console.WriteLine(report.ToMarkdown());
return report.Passed ? 0 : 1;

async Task<(Workload Workload, Dictionary<string, decimal> InitialBalances)> CreateAccountsAsync()
{
    // Fresh ids per run: a bench never shares accounts with an earlier run (or with tests), so its invariants are its own.
    var run = "b" + startedAt.ToString("MMddHHmmss", CultureInfo.InvariantCulture);
    var merchant = $"{run}-merchant";
    var funded = Enumerable.Range(1, options.Customers).Select(i => $"{run}-c{i:000}").ToList();
    var unfunded = Enumerable.Range(1, options.RejectedCustomers).Select(i => $"{run}-broke{i:00}").ToList();
    var balances = new Dictionary<string, decimal> { [merchant] = 0m };
    foreach (var customer in funded)
        balances[customer] = 10_000_000m;
    foreach (var customer in unfunded)
        balances[customer] = 0m;

    await api.LoginAsync(operatorId, "operator");
    await api.CreateAccountAsync(operatorId, merchant, "merchant", 0m);
    foreach (var customer in funded.Concat(unfunded))
    {
        await api.CreateAccountAsync(operatorId, customer, "customer", balances[customer]);
        await api.LoginAsync(customer, "customer");
    }

    Console.WriteLine($"created merchant {merchant}, {funded.Count} funded and {unfunded.Count} unfunded customers");
    return (new Workload(merchant, funded, unfunded, options.RejectedShare), balances);
}
