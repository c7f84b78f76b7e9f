using System.Text.Json;
using EventShop.Dashboard.Apis;
using EventShop.Dashboard.Failures;

namespace EventShop.Dashboard.Live;

/// <summary>
/// One operator's live view: reads the saga host and the failed messages with the operator's own token, so the stream shows
/// exactly what the operator may read. The error queues are walked (which counts as a delivery on a quorum queue, ADR 0016)
/// only when their message counts or the parked outbox rows changed since the last look.
/// </summary>
public sealed class LiveView(ServiceApis services, ErrorQueues errorQueues, string authorization, Guid? orderId, ILogger logger)
{
    const int FailuresShown = 50;

    /// <summary>
    /// How long one source may take before this look goes on without it: HttpClient's standard resilience would retry a service
    /// that is down for up to 30 s, and the rest of the view must not wait for it.
    /// </summary>
    static readonly TimeSpan SourceTimeout = TimeSpan.FromSeconds(3);

    static readonly TimeSpan CollectTimeout = TimeSpan.FromSeconds(6);
    static readonly string[] Ended = ["Completed", "Cancelled"];
    static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();
    static readonly JsonElement EmptyArray = JsonDocument.Parse("[]").RootElement.Clone();

    LiveSnapshot _last = new(EmptyObject, 0, 0, EmptyArray, [], [], EmptyArray, EmptyArray, null, 0, null, []);
    string? _failureFingerprint;

    /// <exception cref="UnauthorizedAccessException">A service refused the operator's token: the stream ends.</exception>
    public async Task<LiveSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        var unavailable = new List<string>();
        var snapshot = _last;
        try
        {
            using var deadline = Deadline(SourceTimeout, cancellationToken);
            snapshot = await ReadSagasAsync(snapshot, deadline.Token);
        }
        catch (Exception exception) when (IsUnavailable(exception, cancellationToken))
        {
            logger.LogDebug(exception, "The saga host did not answer the live view");
            unavailable.Add("sagas");
        }

        var (failures, count, failuresUnavailable) = await ReadFailuresAsync(snapshot, cancellationToken);
        unavailable.AddRange(failuresUnavailable);
        _last = snapshot with { Failures = failures, FailureCount = count, Unavailable = [.. unavailable] };
        return _last;
    }

    async Task<LiveSnapshot> ReadSagasAsync(LiveSnapshot previous, CancellationToken cancellationToken)
    {
        var overview = await ReadAsync("/api/sagas?stuck=true&limit=100", cancellationToken) ?? EmptyObject;
        var counts = overview.GetProperty("counts");
        var active = counts.EnumerateObject().Where(x => !Ended.Contains(x.Name) && x.Value.GetInt32() > 0).Select(x => x.Name).ToArray();
        var cancelled = ReadAsync("/api/sagas?state=Cancelled&limit=50", cancellationToken);
        var recent = ReadAsync("/api/sagas?limit=10", cancellationToken);
        var saga = orderId is { } id ? ReadAsync($"/api/sagas/{id}", cancellationToken) : Task.FromResult<JsonElement?>(null);
        var inFlight = await Task.WhenAll(active.Select(state => ReadAsync($"/api/sagas?state={Uri.EscapeDataString(state)}&limit=100", cancellationToken)));

        var stuckItems = overview.TryGetProperty("stuckItems", out var items) && items.ValueKind == JsonValueKind.Array
            ? items.EnumerateArray().Select(x => new LiveStuckItem(x.GetProperty("orderId").GetGuid(), x.GetProperty("kind").GetString()!,
                x.GetProperty("state").GetString(), x.GetProperty("budgetSeconds").GetDouble())).ToArray()
            : [];
        return previous with
        {
            Counts = counts,
            Stuck = overview.GetProperty("stuck").GetInt32(),
            NeedsOperator = overview.TryGetProperty("needsOperator", out var needsOperator) ? needsOperator.GetInt32() : 0,
            StuckSagas = overview.GetProperty("items"),
            StuckItems = stuckItems,
            InFlight = [.. inFlight.SelectMany(x => x?.GetProperty("items").EnumerateArray() ?? Enumerable.Empty<JsonElement>())
                .OrderByDescending(x => x.GetProperty("updatedAt").GetDateTimeOffset()).Take(100)],
            Cancelled = (await cancelled)?.GetProperty("items") ?? EmptyArray,
            Recent = (await recent)?.GetProperty("items") ?? EmptyArray,
            Saga = await saga,
        };
    }

    async Task<(FailureListResponse? Failures, int Count, string[] Unavailable)> ReadFailuresAsync(LiveSnapshot previous,
        CancellationToken cancellationToken)
    {
        var fingerprint = await FailureFingerprintAsync(cancellationToken);
        if (fingerprint == _failureFingerprint && previous.Failures is not null)
            return (previous.Failures, previous.FailureCount, previous.Failures.Unavailable);

        List<FailedMessage> all;
        string[] unavailable;
        try
        {
            using var deadline = Deadline(CollectTimeout, cancellationToken);
            (all, unavailable) = await FailuresApi.CollectAsync(errorQueues, services, authorization, logger, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _failureFingerprint = null;
            return (previous.Failures, previous.FailureCount, ["broker"]);
        }
        // What this list shows, in the fingerprint's terms: when the sources look the same next time, the list still holds. Taken
        // from the list itself, not from the look before it, so a walk that met messages another walk held at that moment (an
        // operator's retry) is seen to differ and read again.
        _failureFingerprint = unavailable.Length == 0 ? Fingerprint(
            all.Where(x => x.Source == "error-queue").GroupBy(x => x.Queue).Select(g => (g.Key, (uint)g.Count())),
            all.Where(x => x.Source == "outbox").GroupBy(x => x.Service).Select(g => (g.Key, g.Select(RowId)))) : null;
        return (FailuresApi.Summarize(all, unavailable, FailuresShown), all.Count, unavailable);
    }

    /// <summary>The error queues' message counts and the parked outbox rows' ids: when these are unchanged, so is the list.</summary>
    async Task<string> FailureFingerprintAsync(CancellationToken cancellationToken)
    {
        IEnumerable<(string, uint)> queues;
        try
        {
            using var deadline = Deadline(SourceTimeout, cancellationToken);
            queues = (await errorQueues.CountsAsync(await errorQueues.QueuesAsync(deadline.Token), deadline.Token)).Select(x => (x.Key, x.Value));
        }
        catch (Exception exception) when (IsUnavailable(exception, cancellationToken) || exception is RabbitMQ.Client.Exceptions.RabbitMQClientException)
        {
            return "broker unavailable";
        }

        var parked = new List<(string, IEnumerable<string>)>();
        foreach (var service in ServiceApis.WithOutbox)
        {
            try
            {
                using var deadline = Deadline(SourceTimeout, cancellationToken);
                var rows = await services.ParkedAsync(service, 1000, authorization, deadline.Token);
                parked.Add((service, rows.Select(x => x.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))));
            }
            catch (Exception exception) when (IsUnavailable(exception, cancellationToken))
            {
                return $"{service} unavailable";
            }
        }
        return Fingerprint(queues, parked);
    }

    static string Fingerprint(IEnumerable<(string Queue, uint Count)> queues, IEnumerable<(string Service, IEnumerable<string> RowIds)> parked) =>
        string.Join('|', queues.Where(x => x.Count > 0).OrderBy(x => x.Queue, StringComparer.Ordinal)
                .Select(x => $"{x.Queue}={Math.Min(x.Count, ErrorQueues.MaxPerQueue)}")
            .Concat(parked.Where(x => x.RowIds.Any()).OrderBy(x => x.Service, StringComparer.Ordinal)
                .Select(x => $"{x.Service}:{string.Join(',', x.RowIds.Order(StringComparer.Ordinal))}")));

    static string RowId(FailedMessage message) => FailureId.TryParse(message.Id, out _, out _, out var key) ? key : message.Id;

    Task<JsonElement?> ReadAsync(string path, CancellationToken cancellationToken) => services.ReadAsync("sagas", path, authorization, cancellationToken);

    static CancellationTokenSource Deadline(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        return deadline;
    }

    static bool IsUnavailable(Exception exception, CancellationToken cancellationToken) =>
        exception is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);
}
