using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventShop.Gateway.Apis;
using EventShop.ServiceDefaults.Invariants;
using Microsoft.Extensions.Options;

namespace EventShop.Gateway.Invariants;

/// <summary>
/// One run of the continuous invariant check (ADR 0013). Each service judges its own data and reports totals over settled
/// orders; the comparisons across services are made here. Orders is asked first and fixes the cut (which orders are
/// settled); Accounts, Points and the saga host are then asked at once, leaving out the orders Orders named as unsettled
/// and anything that started after it answered, so an order in flight never makes a check fail.
/// </summary>
public sealed partial class InvariantChecker(SummarySources sources, ServiceToken token, IOptions<InvariantsSettings> settings,
    TimeProvider clock, ILogger<InvariantChecker> logger)
{
    const string Path = "/internal/invariants";
    static readonly string[] Others = ["accounts", "points", "sagas"];

    public async Task<InvariantVerdict> RunAsync(CancellationToken cancellationToken)
    {
        var tolerance = settings.Value.ClockTolerance;
        var checkedAt = clock.GetUtcNow();
        var orders = await AskAsync("orders", new InvariantsRequest(checkedAt - 2 * tolerance, []), cancellationToken);
        var cut = new InvariantsRequest(checkedAt - tolerance, orders.Report?.Unsettled ?? []);
        var others = await Task.WhenAll(Others.Select(service => AskAsync(service, cut, cancellationToken)));
        var answers = others.Prepend(orders).ToDictionary(x => x.Service);

        var checks = new List<InvariantCheck>();
        foreach (var answer in answers.Values)
        {
            if (answer.Report is { } report)
                checks.AddRange(report.Checks);
            else
                checks.Add(new InvariantCheck($"{answer.Service}.answered", false, answer.Failure!));
        }

        var inFlight = cut.Unsettled!.Length;
        checks.Add(Compare("merchants-credited-completed-totals", answers, "orders", "completedByMerchant", "accounts", "creditedByMerchant",
            "merchant", inFlight));
        checks.Add(Compare("customers-paid-completed-totals", answers, "orders", "completedByCustomer", "accounts", "paidByCustomer",
            "customer", inFlight));
        checks.Add(Compare("points-match-completed-orders", answers, "orders", "pointsByCustomer", "points", "pointsByCustomer",
            "customer", inFlight));
        checks.Add(CompareOutcomes(answers, inFlight));
        return new InvariantVerdict(checkedAt, checks.All(x => x.Ok), [.. checks]);
    }

    static InvariantCheck Compare(string name, Dictionary<string, Answer> answers, string left, string leftTotals, string right,
        string rightTotals, string keyName, int inFlight)
    {
        if (Unanswered(answers, left, right) is { } unanswered)
            return new InvariantCheck(name, false, unanswered);
        var ours = answers[left].Report!.Totals.GetValueOrDefault(leftTotals) ?? [];
        var theirs = answers[right].Report!.Totals.GetValueOrDefault(rightTotals) ?? [];
        var differences = ours.Keys.Union(theirs.Keys).Order(StringComparer.Ordinal)
            .Where(key => ours.GetValueOrDefault(key) != theirs.GetValueOrDefault(key))
            .Select(key => $"{key}: {left} {Format(ours.GetValueOrDefault(key))}, {right} {Format(theirs.GetValueOrDefault(key))}")
            .ToList();
        return differences.Count == 0
            ? new InvariantCheck(name, true, $"{left} and {right} agree for {ours.Count} {keyName}(s) over settled orders ({inFlight} in flight left out)")
            : new InvariantCheck(name, false, Describe($"{differences.Count} {keyName}(s) differ", differences));
    }

    /// <summary>Per outcome, the orders in it and a checksum of their ids: equal on both sides when each order's status is its saga's.</summary>
    static InvariantCheck CompareOutcomes(Dictionary<string, Answer> answers, int inFlight)
    {
        const string Name = "order-status-matches-saga-outcome";
        if (Unanswered(answers, "orders", "sagas") is { } unanswered)
            return new InvariantCheck(Name, false, unanswered);
        var orders = answers["orders"].Report!.Totals;
        var sagas = answers["sagas"].Report!.Totals;
        var counts = (orders.GetValueOrDefault("outcomeCounts") ?? [], sagas.GetValueOrDefault("outcomeCounts") ?? []);
        var sums = (orders.GetValueOrDefault("outcomeChecksums") ?? [], sagas.GetValueOrDefault("outcomeChecksums") ?? []);
        var differences = counts.Item1.Keys.Union(counts.Item2.Keys).Order(StringComparer.Ordinal)
            .Where(state => counts.Item1.GetValueOrDefault(state) != counts.Item2.GetValueOrDefault(state)
                || sums.Item1.GetValueOrDefault(state) != sums.Item2.GetValueOrDefault(state))
            .Select(state => $"{state}: {counts.Item1.GetValueOrDefault(state):0} order(s), {counts.Item2.GetValueOrDefault(state):0} saga(s)" +
                (counts.Item1.GetValueOrDefault(state) == counts.Item2.GetValueOrDefault(state) ? " (different orders)" : ""))
            .ToList();
        var settled = counts.Item1.Values.Sum();
        return differences.Count == 0
            ? new InvariantCheck(Name, true, $"{settled:0} settled order(s) have their saga's outcome ({inFlight} in flight left out)")
            : new InvariantCheck(Name, false, Describe("order statuses and saga outcomes differ", differences));
    }

    static string? Unanswered(Dictionary<string, Answer> answers, params string[] services) =>
        services.FirstOrDefault(service => answers[service].Report is null) is { } missing ? $"not compared: {missing} did not answer" : null;

    static string Describe(string fails, List<string> examples) =>
        $"{fails}: {string.Join("; ", examples.Take(5))}{(examples.Count > 5 ? "; ..." : "")}";

    static string Format(decimal value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    sealed record Answer(string Service, InvariantReport? Report, string? Failure);

    async Task<Answer> AskAsync(string service, InvariantsRequest cut, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.Value.PartTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(sources.AddressOf(service), Path))
            {
                Content = JsonContent.Create(cut),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await token.GetAsync(cancellationToken));
            if (Activity.Current is null)
            {
                // The periodic run is not traffic (ADR 0011): the service is told its part is not sampled, so it records no trace either.
                request.Headers.Add("traceparent", $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-00");
            }

            using var response = await sources.Http.SendAsync(request, deadline.Token);
            if (!response.IsSuccessStatusCode)
                return Failed(service, $"{service} answered {(int)response.StatusCode}");
            var report = await response.Content.ReadFromJsonAsync<InvariantReport>(deadline.Token);
            return report is null ? Failed(service, $"{service} answered no report") : new Answer(service, report, null);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return Failed(service, e is OperationCanceledException
                ? $"{service} did not answer within {settings.Value.PartTimeout.TotalSeconds} s"
                : $"{service} could not be reached");
        }
    }

    Answer Failed(string service, string reason)
    {
        LogServiceFailed(logger, service, reason);
        return new Answer(service, null, reason);
    }

    // Debug: the failed check "<service>.answered" carries the same reason, and the monitor logs it once when it is news
    // (not while the system is starting); a warning here repeated it on every run.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Invariant check: {Service} gave no report ({Reason})")]
    static partial void LogServiceFailed(ILogger logger, string service, string reason);
}
