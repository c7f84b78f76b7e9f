using System.Collections.Concurrent;
using System.Diagnostics;

namespace EventShop.LoadTests;

/// <summary>One order as the bench saw it. Times are milliseconds since the start of its phase (client clock).</summary>
public sealed class OrderSample
{
    public required string Phase { get; init; }
    public required string CustomerId { get; init; }
    public bool ExpectCancelled { get; init; }
    public decimal Total { get; init; }

    /// <summary>When the order was meant to start: its slot on the schedule (rate phase) or when its worker started it (max phase).
    /// Latency counts from here, so a late submission (client or server queueing) is not hidden (no coordinated omission).</summary>
    public double IntendedStartMs { get; init; }

    public double? SubmitLatencyMs { get; set; }
    public Guid? OrderId { get; set; }
    public string? Status { get; set; }
    public double? TerminalSeenMs { get; set; }
    public double? ClientLatencyMs { get; set; }

    /// <summary>updatedAt - createdAt of the order, both stamped by the Orders service: submit-to-terminal without HTTP or polling.</summary>
    public double? ServerLatencyMs { get; set; }

    /// <summary>The terminal order as the Orders service reported it (its createdAt and updatedAt start and end the step breakdown).</summary>
    public OrderView? Terminal { get; set; }

    public string? Error { get; set; }
}

/// <summary>The accounts of one bench run and how orders are spread over them.</summary>
public sealed class Workload(string merchantId, IReadOnlyList<string> fundedCustomers, IReadOnlyList<string> unfundedCustomers, double unfundedShare)
{
    public string MerchantId { get; } = merchantId;
    public IReadOnlyList<string> FundedCustomers { get; } = fundedCustomers;
    public IReadOnlyList<string> UnfundedCustomers { get; } = unfundedCustomers;

    public (string CustomerId, bool ExpectCancelled, int Quantity, decimal UnitPrice) NextOrder()
    {
        var random = Random.Shared;
        var unfunded = UnfundedCustomers.Count > 0 && random.NextDouble() < unfundedShare;
        var customer = unfunded ? UnfundedCustomers[random.Next(UnfundedCustomers.Count)] : FundedCustomers[random.Next(FundedCustomers.Count)];
        // Prices with cents and fractional totals, so floor(total) for points is actually exercised.
        return (customer, unfunded, random.Next(1, 4), random.Next(100, 5_000) / 100m);
    }
}

/// <summary>Runs one load phase and follows every order it submitted to its terminal status.</summary>
public sealed class LoadPhase(ShopApi api, Workload workload, BenchOptions options)
{
    readonly ConcurrentQueue<OrderSample> _samples = new();
    readonly ConcurrentQueue<double> _latenciesThisSecond = new();
    readonly Stopwatch _clock = new();
    int _submitted;
    int _settled;
    int _errors;

    public string Name { get; private set; } = "";
    public DateTimeOffset StartedAt { get; private set; }
    public double SubmissionsEndedMs { get; private set; }
    public List<string> ProgressLines { get; } = [];

    public IReadOnlyList<OrderSample> Samples => [.. _samples];

    /// <summary>Closed loop with <paramref name="concurrency"/> orders in flight: the most the system settles with a bounded backlog.</summary>
    public async Task RunMaxAsync(int concurrency, TimeSpan duration, int maxOrders, string name = "max")
    {
        Name = name;
        var drainDeadline = Start() + duration + options.Drain;
        using var progress = StartProgress();

        var issued = 0;
        async Task Worker()
        {
            while (_clock.Elapsed < duration && Interlocked.Increment(ref issued) <= maxOrders)
                await RunOrderAsync(_clock.Elapsed.TotalMilliseconds, drainDeadline);
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Worker)));
        SubmissionsEndedMs = Math.Min(_clock.Elapsed.TotalMilliseconds, duration.TotalMilliseconds);
    }

    /// <summary>Open loop: order i is due at i / rate seconds whatever happened to the earlier ones.</summary>
    public async Task RunRateAsync(double ordersPerSecond, TimeSpan duration)
    {
        Name = "rate";
        var drainDeadline = Start() + duration + options.Drain;
        using var progress = StartProgress();

        var count = (int)Math.Round(ordersPerSecond * duration.TotalSeconds);
        var orders = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            var dueMs = i * 1000.0 / ordersPerSecond;
            var wait = dueMs - _clock.Elapsed.TotalMilliseconds;
            if (wait >= 1)
                await Task.Delay(TimeSpan.FromMilliseconds(wait));
            orders.Add(Task.Run(() => RunOrderAsync(dueMs, drainDeadline)));
        }

        SubmissionsEndedMs = _clock.Elapsed.TotalMilliseconds;
        await Task.WhenAll(orders);
    }

    DateTimeOffset Start()
    {
        StartedAt = DateTimeOffset.UtcNow;
        _clock.Start();
        return StartedAt;
    }

    async Task RunOrderAsync(double intendedStartMs, DateTimeOffset drainDeadline)
    {
        var (customerId, expectCancelled, quantity, unitPrice) = workload.NextOrder();
        var sample = new OrderSample
        {
            Phase = Name,
            CustomerId = customerId,
            ExpectCancelled = expectCancelled,
            Total = quantity * unitPrice,
            IntendedStartMs = intendedStartMs,
        };
        _samples.Enqueue(sample);
        try
        {
            var submitStarted = _clock.Elapsed.TotalMilliseconds;
            var (orderId, error) = await api.SubmitOrderAsync(customerId, workload.MerchantId, quantity, unitPrice, CancellationToken.None);
            sample.SubmitLatencyMs = _clock.Elapsed.TotalMilliseconds - submitStarted;
            Interlocked.Increment(ref _submitted);
            if (orderId is null)
            {
                sample.Error = error;
                Interlocked.Increment(ref _errors);
                return;
            }

            sample.OrderId = orderId;
            var order = await api.FollowToTerminalAsync(customerId, orderId.Value, drainDeadline, CancellationToken.None);
            sample.Status = order.Status;
            if (order.Status == "Pending")
                return;

            sample.TerminalSeenMs = _clock.Elapsed.TotalMilliseconds;
            sample.ClientLatencyMs = sample.TerminalSeenMs - intendedStartMs;
            sample.ServerLatencyMs = (order.UpdatedAt - order.CreatedAt).TotalMilliseconds;
            sample.Terminal = order;
            _latenciesThisSecond.Enqueue(sample.ClientLatencyMs.Value);
            Interlocked.Increment(ref _settled);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            sample.Error ??= exception.GetType().Name + ": " + exception.Message;
            Interlocked.Increment(ref _errors);
        }
    }

    /// <summary>One line per second, so a run that stalls is visible while it runs.</summary>
    Timer StartProgress()
    {
        var lastSettled = 0;
        return new Timer(_ =>
        {
            var settled = Volatile.Read(ref _settled);
            var latencies = new List<double>();
            while (_latenciesThisSecond.TryDequeue(out var latency))
                latencies.Add(latency);
            latencies.Sort();
            var line = $"[{Name,-4} {_clock.Elapsed.TotalSeconds,4:0}s] submitted {Volatile.Read(ref _submitted),6}  settled {settled,6} " +
                $"(+{settled - lastSettled,4}/s)  in flight {Volatile.Read(ref _submitted) - settled - Volatile.Read(ref _errors),4}  " +
                $"errors {Volatile.Read(ref _errors)}  p50 {Stats.Percentile(latencies, 50),6:0} ms  p99 {Stats.Percentile(latencies, 99),6:0} ms";
            lastSettled = settled;
            ProgressLines.Add(line);
            Console.WriteLine(line);
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }
}
