using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace EventShop.Scenarios;

/// <summary>
/// Runs one scenario against the running system through the gateway: sets up its accounts and members under a fresh run id,
/// injects its faults when due, places its orders, waits for each to end, and compares every outcome with the file.
/// </summary>
public sealed class ScenarioRunner(Gateway gateway, bool restartsCrashedServices = true)
{
    static readonly string[] CompensationStates = ["ReversingPoints", "ReversingCredit", "Refunding"];

    /// <summary>Prints the timeline of every order; otherwise only of small groups and of orders that missed their expectation.</summary>
    public bool Verbose { get; init; }

    public async Task<SystemCapabilities> ProbeAsync(CancellationToken cancellationToken = default) => new(
        await gateway.HasRouteAsync("/api/faults", cancellationToken),
        await gateway.HasRouteAsync("/api/invariants", cancellationToken),
        restartsCrashedServices);

    public async Task<ScenarioResult> RunAsync(Scenario scenario, SystemCapabilities capabilities, CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        if (capabilities.Missing(scenario.Requirements()) is { } missing)
            return new ScenarioResult(scenario.Name, Verdict.Unavailable, [missing], "", watch.Elapsed);

        var run = new Run(scenario, capabilities);
        try
        {
            await ExecuteAsync(run, cancellationToken);
        }
        catch (ScenarioRunException e)
        {
            run.Differ($"the run stopped: {e.Message}");
        }
        catch (HttpRequestException e)
        {
            run.Differ($"the run stopped: the gateway at {gateway.Address} did not answer ({e.Message})");
        }
        finally
        {
            await RemoveFaultsAsync(run);
        }
        var differences = run.Differences.ToArray();
        return new ScenarioResult(scenario.Name, differences.Length == 0 ? Verdict.Passed : Verdict.Failed, differences,
            run.Output.ToString(), watch.Elapsed);
    }

    async Task ExecuteAsync(Run run, CancellationToken cancellationToken)
    {
        var scenario = run.Scenario;
        run.Print($"scenario {scenario.Name} (run id {run.Id}){(scenario.Description is null ? "" : ": " + scenario.Description.Trim())}");
        await SetUpAsync(run, cancellationToken);
        await InjectDueFaultsAsync(run, cancellationToken);

        var waits = new List<Task>();
        foreach (var (group, index) in scenario.Orders.Select((g, i) => (g, i)))
        {
            var placed = await SubmitGroupAsync(run, group, index, cancellationToken);
            var ended = EndGroupAsync(run, group, placed, cancellationToken);
            if (group.Wait)
                await ended;
            else
                waits.Add(ended);
        }
        await Task.WhenAll(waits);

        await CheckFinalAsync(run, cancellationToken);
        await PrintFaultsAsync(run, cancellationToken);
    }

    async Task SetUpAsync(Run run, CancellationToken cancellationToken)
    {
        foreach (var account in run.Scenario.Accounts)
        {
            await gateway.PostAsync("/api/accounts", new { accountId = run.IdOf(account.Id), kind = account.Kind, balance = account.Balance }, cancellationToken);
            if (account.Frozen)
                await gateway.PostAsync($"/api/accounts/{run.IdOf(account.Id)}/freeze", null, cancellationToken);
        }
        foreach (var member in run.Scenario.Members.Where(m => m.Suspended))
            await gateway.PostAsync($"/api/points/{run.IdOf(member.Id)}/suspend", null, cancellationToken);
    }

    /// <summary>Injects every fault whose moment has come: before the orders, or once <c>afterOrders</c> of them were submitted.</summary>
    async Task InjectDueFaultsAsync(Run run, CancellationToken cancellationToken)
    {
        foreach (var fault in run.TakeDueFaults())
        {
            var body = new
            {
                service = fault.Service,
                messageType = fault.MessageType,
                action = fault.Action,
                crashPoint = fault.CrashPoint,
                delayMs = fault.DelayMs,
                customerId = fault.Customer is null ? null : run.IdOf(fault.Customer),
                times = fault.Times,
            };
            using var response = await gateway.SendAsync(HttpMethod.Post, "/api/faults", body, cancellationToken: cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
                throw new ScenarioRunException("fault injection is not available (404 from /api/faults)");
            await Gateway.EnsureAsync(response, "POST /api/faults");
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("id").ToString();
            run.FaultIds[id] = fault;
            run.Print($"  fault {id}: {fault.Describe()} (after {run.Submitted} orders)");
        }
    }

    async Task<PlacedOrder[]> SubmitGroupAsync(Run run, OrderGroup group, int index, CancellationToken cancellationToken)
    {
        var label = group.Label(index);
        var submissions = Enumerable.Range(1, group.Count).Select(n => new PlacedOrder(group, group.Count == 1 ? label : $"{label}#{n}"));
        if (!group.Concurrent)
        {
            var placed = new List<PlacedOrder>();
            foreach (var order in submissions)
            {
                placed.Add(await SubmitAsync(run, order, cancellationToken));
                await InjectDueFaultsAsync(run, cancellationToken);
            }
            return [.. placed];
        }
        // A burst: every order of the group in flight at once, on as many connections as there are orders.
        var burst = await Task.WhenAll(submissions.Select(order => SubmitAsync(run, order, cancellationToken)));
        await InjectDueFaultsAsync(run, cancellationToken);
        return burst;
    }

    async Task<PlacedOrder> SubmitAsync(Run run, PlacedOrder order, CancellationToken cancellationToken)
    {
        var group = order.Group;
        var body = new
        {
            customerId = run.IdOf(group.Customer),
            merchantId = run.IdOf(group.Merchant),
            items = group.ItemsToSubmit().Select(i => new { sku = i.Sku, quantity = i.Quantity, unitPrice = i.UnitPrice }).ToArray(),
        };
        var key = $"{run.Id}-{Guid.NewGuid():N}";
        var (traceId, traceParent) = Gateway.NewTraceParent();
        order.TraceId = traceId;
        order.OrderId = await PostOrderAsync(run, order, body, key, traceParent, cancellationToken);
        Interlocked.Increment(ref run.Submitted);
        if (group.Resubmit && order.OrderId is { } first)
        {
            var again = await PostOrderAsync(run, order, body, key, traceParent, cancellationToken);
            if (again != first)
                run.Differ($"order {order.Label}: the same Idempotency-Key again expected order {first}, actual {again?.ToString() ?? "none"}");
        }
        return order;
    }

    async Task<Guid?> PostOrderAsync(Run run, PlacedOrder order, object body, string key, string traceParent, CancellationToken cancellationToken)
    {
        using var response = await gateway.SendAsync(HttpMethod.Post, "/api/orders", body, run.IdOf(order.Group.Customer), request =>
        {
            request.Headers.Add("Idempotency-Key", key);
            request.Headers.Add("traceparent", traceParent);
        }, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            run.Differ($"order {order.Label}: submission expected 202, actual {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            return null;
        }
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("orderId").GetGuid();
    }

    async Task EndGroupAsync(Run run, OrderGroup group, PlacedOrder[] placed, CancellationToken cancellationToken)
    {
        var submitted = placed.Where(o => o.OrderId is not null).ToArray();
        await Task.WhenAll(submitted.Select(order => WaitForOutcomeAsync(run, order, cancellationToken)));
        var expect = group.Expect;
        foreach (var order in submitted)
        {
            var differences = CheckOrder(order, expect);
            if (Verbose || group.Count <= 5 || differences.Count > 0)
                PrintTimeline(run, order);
            else
                run.Print($"  order {order.Label} {order.OrderId}: {order.Describe()}");
            differences.ForEach(run.Differ);
        }
        if (expect.Outcomes.Count > 0)
        {
            var actual = submitted.GroupBy(o => o.Outcome).ToDictionary(g => g.Key, g => g.Count());
            foreach (var (outcome, count) in expect.Outcomes)
                if (actual.GetValueOrDefault(outcome) != count)
                    run.Differ($"orders {group.Label(run.Scenario.Orders.IndexOf(group))}: {outcome} expected {count} orders, actual {actual.GetValueOrDefault(outcome)} " +
                        $"(all outcomes: {string.Join(", ", actual.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key} {a.Value}"))})");
        }
        await CheckBalancesAsync(run, $"after orders {group.Label(run.Scenario.Orders.IndexOf(group))}", expect.Balances, expect.Points, cancellationToken);
    }

    async Task WaitForOutcomeAsync(Run run, PlacedOrder order, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + run.Scenario.OrderTimeout();
        JsonElement view;
        do
        {
            var wait = (int)Math.Clamp((deadline - DateTime.UtcNow).TotalSeconds, 0, 20);
            view = await gateway.GetAsync($"/api/orders/{order.OrderId}?waitForCompletion={wait}", cancellationToken);
        }
        while (Text(view, "status") == "Pending" && DateTime.UtcNow < deadline);

        order.Status = Text(view, "status") ?? "Pending";
        order.FailureReason = Text(view, "failureReason");
        order.FailureCode = Text(view, "failureCode");
        if (order.FailureCode is null && order.Status == "Cancelled")
        {
            order.FailureCode = FailureCodes.FromReason(order.FailureReason);
            order.FailureCodeDerived = true;
        }
        order.PointsAccrued = view.TryGetProperty("pointsAccrued", out var points) && points.ValueKind == JsonValueKind.Number ? points.GetInt64() : null;
        order.Total = view.GetProperty("total").GetDecimal();
        order.Duration = view.GetProperty("updatedAt").GetDateTimeOffset() - view.GetProperty("createdAt").GetDateTimeOffset();
        if (Text(view, "traceId") is { } traceId)
            order.TraceId = traceId;
        if (await gateway.FindAsync($"/api/sagas/{order.OrderId}", cancellationToken) is { } saga
            && saga.TryGetProperty("history", out var history) && history.ValueKind == JsonValueKind.Array)
        {
            order.History = history.EnumerateArray()
                .Select(t => new Transition(t.GetProperty("at").GetDateTimeOffset(), Text(t, "event") ?? "", Text(t, "fromState") ?? "",
                    Text(t, "toState") ?? "", Text(t, "detail")))
                .ToArray();
        }
        run.Ended.Add(order);
    }

    static List<string> CheckOrder(PlacedOrder order, OrderExpectation expect)
    {
        var differences = new List<string>();
        var name = $"order {order.Label} ({order.OrderId})";
        if (expect.Status is { } status && status != order.Status)
            differences.Add($"{name}: status expected {status}, actual {order.Status}{(order.FailureReason is null ? "" : $" ({order.FailureReason})")}");
        if (expect.FailureCode is { } code && code != order.FailureCode)
            differences.Add($"{name}: failureCode expected {code}, actual {order.FailureCode ?? "none"}" +
                $"{(order.FailureCodeDerived ? $" (read from failureReason '{order.FailureReason}')" : "")}");
        if (expect.FailureReason is { } reason && order.FailureReason?.Contains(reason, StringComparison.OrdinalIgnoreCase) != true)
            differences.Add($"{name}: failureReason expected to contain '{reason}', actual '{order.FailureReason ?? "none"}'");
        if (expect.PointsAccrued is { } points && points != (order.PointsAccrued ?? 0))
            differences.Add($"{name}: pointsAccrued expected {points}, actual {order.PointsAccrued?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
        if (expect.States.Count > 0)
        {
            var visited = order.History.Select(t => t.ToState).ToList();
            var position = 0;
            foreach (var state in visited)
                if (position < expect.States.Count && state == expect.States[position])
                    position++;
            if (position < expect.States.Count)
                differences.Add($"{name}: states expected to pass through {string.Join(" -> ", expect.States)}, actual " +
                    $"{(visited.Count == 0 ? "no saga history" : string.Join(" -> ", visited))} (missing {expect.States[position]})");
        }
        if (Durations.Parse(expect.MinDuration, "minDuration") is { } minimum && order.Duration < minimum)
            differences.Add($"{name}: expected to take at least {minimum.TotalSeconds:0.###} s, actual {order.Duration.TotalSeconds:0.###} s");
        return differences;
    }

    async Task CheckFinalAsync(Run run, CancellationToken cancellationToken)
    {
        var expect = run.Scenario.Expect;
        await CheckBalancesAsync(run, "at the end", expect.Balances, expect.Points, cancellationToken);
        if (!expect.Invariants)
            return;
        await CheckOwnInvariantsAsync(run, cancellationToken);
        if (run.Capabilities.InvariantsApi)
            await CheckSystemInvariantsAsync(run, cancellationToken);
        else
            run.Print("  invariants: the system has no /api/invariants (404); checked over this scenario's accounts only");
    }

    async Task CheckBalancesAsync(Run run, string when, Dictionary<string, decimal> balances, Dictionary<string, long> points, CancellationToken cancellationToken)
    {
        foreach (var (account, expected) in balances)
        {
            var actual = await BalanceAsync(run, account, cancellationToken);
            if (actual != expected)
                run.Differ($"balance of {account} {when}: expected {expected:0.00}, actual {(actual is null ? "no account" : actual.Value.ToString("0.00", CultureInfo.InvariantCulture))}");
        }
        foreach (var (member, expected) in points)
        {
            var actual = await PointsAsync(run, member, cancellationToken);
            if (actual != expected)
                run.Differ($"points of {member} {when}: expected {expected}, actual {actual}");
        }
    }

    /// <summary>
    /// Money and points over the scenario's own accounts, which no other run touches: no order left Pending, the total of
    /// the balances unchanged, each account moved by exactly its completed orders, and points equal to floor(total) of them.
    /// </summary>
    async Task CheckOwnInvariantsAsync(Run run, CancellationToken cancellationToken)
    {
        var orders = run.Ended.ToArray();
        foreach (var pending in orders.Where(o => o.Status == "Pending"))
            run.Differ($"invariant: order {pending.Label} ({pending.OrderId}) is still Pending after {run.Scenario.OrderTimeout().TotalSeconds:0} s");
        var completed = orders.Where(o => o.Status == "Completed").ToArray();

        decimal before = 0, after = 0;
        foreach (var account in run.Scenario.Accounts)
        {
            var balance = await BalanceAsync(run, account.Id, cancellationToken) ?? 0m;
            before += account.Balance;
            after += balance;
            var moved = account.Kind == "customer"
                ? -completed.Where(o => o.Group.Customer == account.Id).Sum(o => o.Total)
                : completed.Where(o => o.Group.Merchant == account.Id).Sum(o => o.Total);
            if (balance != account.Balance + moved)
                run.Differ($"invariant: {account.Id} holds {balance:0.00}, expected {account.Balance + moved:0.00} " +
                    $"(opening {account.Balance:0.00} {(moved < 0 ? "-" : "+")} {Math.Abs(moved):0.00} of completed orders)");
        }
        if (before != after)
            run.Differ($"invariant: the scenario's accounts held {before:0.00} in all at the start and {after:0.00} at the end");

        foreach (var customer in orders.Select(o => o.Group.Customer).Distinct())
        {
            var expected = completed.Where(o => o.Group.Customer == customer).Sum(o => (long)decimal.Floor(o.Total));
            var actual = await PointsAsync(run, customer, cancellationToken);
            if (actual != expected)
                run.Differ($"invariant: {customer} has {actual} points, expected {expected} (floor of each completed order's total)");
        }
    }

    /// <summary>
    /// The system's own continuous check. Other runs may be mid-flight, so a failing verdict is asked again for a while.
    /// Messages waiting for an operator in an error queue (<c>&lt;service&gt;.error-queues-nothing-parked</c>) are shown, not
    /// held against the scenario: parking a message that failed past its retries is what a <c>fail</c> scenario expects, and
    /// its orders' outcomes are what it checks.
    /// </summary>
    async Task CheckSystemInvariantsAsync(Run run, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var verdict = await gateway.GetAsync("/api/invariants", cancellationToken);
            var failing = verdict.TryGetProperty("checks", out var checks) && checks.ValueKind == JsonValueKind.Array
                ? checks.EnumerateArray().Where(c => c.TryGetProperty("ok", out var o) && o.ValueKind == JsonValueKind.False)
                    .Select(c => (Name: Text(c, "name"), Detail: Text(c, "detail"))).ToArray()
                : [];
            var parked = failing.Where(c => c.Name?.EndsWith(ParkedMessagesCheck, StringComparison.Ordinal) == true).ToArray();
            if (verdict.TryGetProperty("ok", out var ok) && (ok.ValueKind == JsonValueKind.True || failing.Length == parked.Length && parked.Length > 0))
            {
                run.Print(parked.Length == 0
                    ? "  invariants: ok (GET /api/invariants)"
                    : $"  invariants: ok (GET /api/invariants) but for messages waiting for an operator: {string.Join("; ", parked.Select(c => $"{c.Name}: {c.Detail}"))}");
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                run.Differ($"invariant: GET /api/invariants expected ok, actual not ok for 30 s: {string.Join("; ", failing.Select(c => $"{c.Name}: {c.Detail}"))}");
                return;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    const string ParkedMessagesCheck = ".error-queues-nothing-parked";

    async Task<decimal?> BalanceAsync(Run run, string account, CancellationToken cancellationToken) =>
        await gateway.FindAsync($"/api/accounts/{run.IdOf(account)}", cancellationToken) is { } view ? view.GetProperty("balance").GetDecimal() : null;

    async Task<long> PointsAsync(Run run, string member, CancellationToken cancellationToken) =>
        await gateway.FindAsync($"/api/points/{run.IdOf(member)}", cancellationToken) is { } view ? view.GetProperty("balance").GetInt64() : 0;

    static void PrintTimeline(Run run, PlacedOrder order)
    {
        var lines = new StringBuilder();
        lines.AppendLine(CultureInfo.InvariantCulture, $"  order {order.Label} {order.OrderId}: {order.Describe()}");
        lines.AppendLine(CultureInfo.InvariantCulture, $"    trace {order.TraceId}");
        var start = order.History.FirstOrDefault()?.At;
        foreach (var step in order.History)
        {
            var role = CompensationStates.Contains(step.ToState) ? "  (compensation)" : "";
            lines.AppendLine(CultureInfo.InvariantCulture,
                $"    {"+" + (step.At - start!.Value).TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + "s",9}  {step.Event,-24} {step.FromState} -> {step.ToState}{role}");
        }
        if (order.History.Length == 0)
            lines.AppendLine("    (no saga history)");
        run.Print(lines.ToString().TrimEnd());
    }

    /// <summary>The scenario's rules as the system reports them: how often each fired.</summary>
    async Task PrintFaultsAsync(Run run, CancellationToken cancellationToken)
    {
        if (run.FaultIds.IsEmpty)
            return;
        var rules = await gateway.FindAsync("/api/faults", cancellationToken);
        var items = rules switch
        {
            { ValueKind: JsonValueKind.Array } array => array.EnumerateArray().ToArray(),
            { } body when body.TryGetProperty("items", out var list) => list.EnumerateArray().ToArray(),
            _ => [],
        };
        foreach (var (id, fault) in run.FaultIds)
        {
            var rule = items.FirstOrDefault(r => r.TryGetProperty("id", out var ruleId) && ruleId.ToString() == id);
            var fired = rule.ValueKind == JsonValueKind.Object ? FiredCount(rule) : null;
            run.Print($"  fault {id} {fault.Describe()}: fired {fired?.ToString(CultureInfo.InvariantCulture) ?? "?"} times");
        }
    }

    static long? FiredCount(JsonElement rule)
    {
        foreach (var name in (string[])["fired", "firedCount", "timesFired", "hits"])
            if (rule.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number)
                return value.GetInt64();
        return null;
    }

    /// <summary>A scenario's rules go when it ends, passed or not: a rule left behind would hit the next run's orders.</summary>
    async Task RemoveFaultsAsync(Run run)
    {
        foreach (var id in run.FaultIds.Keys)
        {
            try
            {
                using var _ = await gateway.SendAsync(HttpMethod.Delete, $"/api/faults/{id}");
            }
            catch (HttpRequestException)
            {
                run.Print($"  fault {id} could not be removed (the gateway did not answer)");
            }
        }
    }

    static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : null;

    sealed class Run(Scenario scenario, SystemCapabilities capabilities)
    {
        readonly Queue<FaultSetup> _pendingFaults = new(scenario.Faults.OrderBy(f => f.AfterOrders));
        readonly Lock _lock = new();

        public Scenario Scenario { get; } = scenario;
        public SystemCapabilities Capabilities { get; } = capabilities;
        public string Id { get; } = "s" + Guid.NewGuid().ToString("N")[..8];
        public int Submitted;
        public ConcurrentDictionary<string, FaultSetup> FaultIds { get; } = new();
        public ConcurrentBag<PlacedOrder> Ended { get; } = [];
        public List<string> Differences { get; } = [];
        public StringBuilder Output { get; } = new();

        public string IdOf(string name) => $"{Id}-{name}";

        public List<FaultSetup> TakeDueFaults()
        {
            lock (_lock)
            {
                var due = new List<FaultSetup>();
                while (_pendingFaults.TryPeek(out var next) && next.AfterOrders <= Volatile.Read(ref Submitted))
                    due.Add(_pendingFaults.Dequeue());
                return due;
            }
        }

        public void Differ(string difference)
        {
            lock (_lock)
            {
                Differences.Add(difference);
                Output.AppendLine("  DIFFERENCE " + difference);
            }
        }

        public void Print(string line)
        {
            lock (_lock)
                Output.AppendLine(line);
        }
    }

    sealed record Transition(DateTimeOffset At, string Event, string FromState, string ToState, string? Detail);

    sealed class PlacedOrder(OrderGroup group, string label)
    {
        public OrderGroup Group { get; } = group;
        public string Label { get; } = label;
        public Guid? OrderId { get; set; }
        public string TraceId { get; set; } = "";
        public string Status { get; set; } = "Pending";
        public string? FailureCode { get; set; }
        public bool FailureCodeDerived { get; set; }
        public string? FailureReason { get; set; }
        public long? PointsAccrued { get; set; }
        public decimal Total { get; set; }
        public TimeSpan Duration { get; set; }
        public Transition[] History { get; set; } = [];

        /// <summary>Completed, or the failure code of a cancelled order: the key of a group's <c>outcomes</c>.</summary>
        public string Outcome => Status == "Cancelled" ? FailureCode ?? "Cancelled" : Status;

        public string Describe() =>
            $"{Status}{(FailureCode is null ? "" : $" ({FailureCode})")} in {Duration.TotalSeconds:0.000} s, total {Total:0.00}" +
            $"{(PointsAccrued is > 0 ? $", {PointsAccrued} points" : "")}";
    }
}
