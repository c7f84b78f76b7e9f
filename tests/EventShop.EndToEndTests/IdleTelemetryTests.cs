using System.Net;
using System.Text;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// An idle system exports no traces (ADR 0011): every service exports OTLP to a listener in this test, with the sampler
/// setting the Aspire AppHost gives them (always_on), while the background work runs at test speed (the gateway's invariant
/// check every second, the operator console's live view open and reading every second). An order is exported; then nothing.
/// </summary>
[Collection(TracedSystemCollection.Name)]
public sealed class IdleTelemetryTests(TracedEventShopSystem system)
{
    static readonly TimeSpan Idle = TimeSpan.FromSeconds(12);

    [Fact]
    public async Task When_nothing_is_ordered_Should_no_service_export_a_trace()
    {
        var shop = new ShopClient(system);
        using var watcher = system.Operator();
        watcher.Timeout = Timeout.InfiniteTimeSpan;
        using var live = await watcher.GetAsync("/dashboard/api/live", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        await using var stream = await live.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync() is { } line && !line.StartsWith("event: snapshot", StringComparison.Ordinal))
        {
        }

        // The pipeline works: an order is exported (its spans arrive within the exporters' 200 ms schedule). Its outcome is
        // not this test's business; it only has to be settled before the idle window.
        var (customer, merchant) = await shop.OpenCustomerAndMerchantAsync();
        await shop.WaitForOutcomeAsync(await shop.SubmitOrderAsync(customer, merchant, unitPrice: 5m));
        await WaitUntilAsync(() => system.Exports.Contains("POST /api/orders"), TimeSpan.FromSeconds(10));

        // What the order left in flight (the last batches, the saga's last messages) settles, then nothing more may come.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var before = system.Exports.Count;
        await Task.Delay(Idle);

        var after = system.Exports.Since(before);
        Assert.True(after.Count == 0,
            $"{after.Count} trace exports in {Idle.TotalSeconds} s of idling; the names in them: {string.Join(" | ", after.Take(5))}");
    }

    static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the order's trace was not exported");
            await Task.Delay(100);
        }
    }
}

/// <summary>EventShop with every service exporting traces over OTLP/HTTP to <see cref="OtlpTraceListener"/>, configured as the AppHost does.</summary>
public sealed class TracedEventShopSystem : EventShopSystem, IDisposable
{
    readonly OtlpTraceListener _listener = new(TestInfrastructure.FreeTcpPort());

    public OtlpTraceListener Exports => _listener;

    /// <summary>
    /// Long, so that on a loaded machine the test's order is not cancelled by a step timeout whose late messages (the step
    /// answering after all, the compensations) would still be flowing in the idle window.
    /// </summary>
    protected override TimeSpan StepTimeout => TimeSpan.FromSeconds(60);

    protected override IEnumerable<KeyValuePair<string, string>> ExtraEnvironment(string service) => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _listener.Address,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        // What the Aspire AppHost sets for every resource: a span is recorded even under a parent that was not sampled.
        ["OTEL_TRACES_SAMPLER"] = "always_on",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["Dashboard__Live__Interval"] = "00:00:01",
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _listener.Dispose();
    }

    public void Dispose() => _listener.Dispose();
}

[CollectionDefinition(Name)]
public sealed class TracedSystemCollection : ICollectionFixture<TracedEventShopSystem>
{
    public const string Name = "Traced EventShop system";
}

/// <summary>
/// The smallest OTLP/HTTP trace receiver: it answers every export with 200 and keeps, per export, the readable strings of its
/// protobuf body (span names, service names, attribute values), enough to say what was exported without decoding it.
/// </summary>
public sealed class OtlpTraceListener : IDisposable
{
    readonly HttpListener _listener = new();
    readonly List<string> _exports = [];
    readonly Task _serving;

    public OtlpTraceListener(int port)
    {
        Address = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Address + "/");
        _listener.Start();
        _serving = ServeAsync();
    }

    public string Address { get; }

    public int Count
    {
        get
        {
            lock (_exports)
                return _exports.Count;
        }
    }

    public bool Contains(string text)
    {
        lock (_exports)
            return _exports.Any(export => export.Contains(text, StringComparison.Ordinal));
    }

    public List<string> Since(int index)
    {
        lock (_exports)
            return _exports.Skip(index).ToList();
    }

    async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                lock (_exports)
                    _exports.Add(ReadableStrings(body.ToArray()));
            }
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    static string ReadableStrings(byte[] protobuf)
    {
        var text = new StringBuilder();
        var run = new StringBuilder();
        foreach (var b in protobuf.Append((byte)0))
        {
            if (b is >= 0x20 and < 0x7f)
            {
                run.Append((char)b);
                continue;
            }
            if (run.Length >= 4)
                text.Append(run).Append(' ');
            run.Clear();
        }
        return text.ToString();
    }

    public void Dispose()
    {
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
    }
}
