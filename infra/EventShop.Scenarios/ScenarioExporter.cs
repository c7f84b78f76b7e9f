using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EventShop.Scenarios;

/// <summary>
/// Turns a real order's recorded history into a scenario that reproduces it: the business rejection it met becomes the set-up
/// (a frozen account, a suspended member, too little money), a step that timed out or faulted becomes the fault that causes
/// it (a lost reply, a failing handler), and its outcome and the states it passed through become the expectation.
/// </summary>
public sealed class ScenarioExporter(Gateway gateway)
{
    /// <summary>One more than the bus's retries (6): the command reaches its error queue.</summary>
    const int FailuresToReachTheErrorQueue = 7;

    static readonly Dictionary<string, (string Service, string Command)> StepCommands = new()
    {
        ["Debiting"] = ("accounts", "DebitCustomer"),
        ["Crediting"] = ("accounts", "CreditMerchant"),
        ["Accruing"] = ("points", "AccruePoints"),
        ["ReversingPoints"] = ("points", "ReversePointsAccrual"),
        ["ReversingCredit"] = ("accounts", "ReverseMerchantCredit"),
        ["Refunding"] = ("accounts", "RefundCustomer"),
    };

    public async Task<string> ExportAsync(Guid orderId, CancellationToken cancellationToken = default)
    {
        var order = await gateway.FindAsync($"/api/orders/{orderId}", cancellationToken)
            ?? throw new ScenarioRunException($"no order {orderId} (404 from /api/orders/{orderId})");
        var saga = await gateway.FindAsync($"/api/sagas/{orderId}", cancellationToken);
        var recording = await gateway.FindAsync($"/api/sagas/{orderId}/messages", cancellationToken);

        var status = Text(order, "status") ?? "Pending";
        var total = order.GetProperty("total").GetDecimal();
        var reason = Text(order, "failureReason");
        var code = Text(order, "failureCode") ?? (status == "Cancelled" ? FailureCodes.FromReason(reason) : null);
        var history = saga is { } s && s.TryGetProperty("history", out var h) && h.ValueKind == JsonValueKind.Array ? h.EnumerateArray().ToArray() : [];
        var completed = status == "Completed";

        var customerBalance = code == "InsufficientFunds" ? Math.Max(0m, total - 0.01m) : total;
        var yaml = new StringBuilder();
        void Line(string text = "") => yaml.Append(text).Append('\n');

        Line($"# Exported by 'infra/eventshop scenario export {orderId}' on {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        Line($"# The original: {status}{(reason is null ? "" : $" ({reason})")}, customer {Text(order, "customerId")}, merchant {Text(order, "merchantId")}.");
        Line($"name: export-{orderId.ToString("N")[..8]}");
        Line($"description: Reproduces order {orderId}{(code is null ? "" : $", which ended {status} with {code}")}.");

        var faults = InferFaults(history, recording);
        // A crash slows every order in flight, and a rule on a command that does not name the customer touches every order.
        if (faults.Any(f => f.Action == "crash" || FaultSetup.WithoutCustomer.Contains(f.MessageType)))
            Line("exclusive: true");
        Line("accounts:");
        if (code != "AccountNotFound")
            Line($"  - {{ id: customer, kind: customer, balance: {Money(customerBalance)}{(code == "AccountFrozen" ? ", frozen: true" : "")} }}");
        if (code != "MerchantNotFound")
            Line($"  - {{ id: merchant, kind: merchant, balance: 0.00{(code == "MerchantFrozen" ? ", frozen: true" : "")} }}");
        if (code == "MemberSuspended")
        {
            Line("members:");
            Line("  - { id: customer, suspended: true }");
        }
        if (faults.Count > 0)
        {
            Line("faults:");
            foreach (var fault in faults)
            {
                Line($"  # {fault.Why}");
                Line($"  - {{ service: {fault.Service}, messageType: {fault.MessageType}, action: {fault.Action}{(FaultSetup.WithoutCustomer.Contains(fault.MessageType) ? "" : ", customer: customer")}, times: {fault.Times} }}");
            }
        }
        Line("orders:");
        Line("  - name: original");
        Line("    customer: customer");
        Line("    merchant: merchant");
        Line($"    total: {Money(total)}");
        Line("    expect:");
        Line($"      status: {status}");
        if (code is not null)
            Line($"      failureCode: {code}");
        if (completed)
            Line($"      pointsAccrued: {(long)decimal.Floor(total)}");
        if (history.Length > 0)
            Line($"      states: [{string.Join(", ", history.Select(t => Text(t, "toState")))}]");
        Line("expect:");
        Line("  balances:");
        if (code != "AccountNotFound")
            Line($"    customer: {Money(completed ? customerBalance - total : customerBalance)}");
        if (code != "MerchantNotFound")
            Line($"    merchant: {Money(completed ? total : 0m)}");
        Line("  points:");
        Line($"    customer: {(completed ? (long)decimal.Floor(total) : 0)}");
        Line("  invariants: true");

        if (history.Length > 0)
        {
            Line();
            Line("# The original saga's transitions:");
            foreach (var t in history)
                Line($"#   {Text(t, "at")}  {Text(t, "event")}: {Text(t, "fromState")} -> {Text(t, "toState")}");
        }
        var messages = Messages(recording);
        Line();
        if (recording is null)
            Line("# No message recording for this order (GET /api/sagas/{id}/messages answered 404).");
        else
        {
            Line("# The messages the saga recorded:");
            foreach (var m in messages)
                Line($"#   {Text(m, "at") ?? Text(m, "time") ?? ""}  {Text(m, "direction") ?? Text(m, "kind") ?? ""} {TypeOf(m)}");
        }
        return yaml.ToString();
    }

    sealed record InferredFault(string Service, string MessageType, string Action, int Times, string Why);

    /// <summary>
    /// The faults the history shows: a step whose deadline passed lost its reply (or never ran); a step that faulted failed
    /// in its handler until the error queue; a reply recorded twice is a duplicate. What left no trace cannot be inferred.
    /// </summary>
    static List<InferredFault> InferFaults(JsonElement[] history, JsonElement? recording)
    {
        var faults = new List<InferredFault>();
        foreach (var transition in history)
        {
            var from = Text(transition, "fromState") ?? "";
            if (!StepCommands.TryGetValue(from, out var step))
                continue;
            var @event = Text(transition, "event") ?? "";
            if (@event == "StepTimedOut")
                faults.Add(new InferredFault(step.Service, step.Command, "drop-reply", 1,
                    $"{from} timed out: the reply to {step.Command} never came (inferred; a slow or stopped {step.Service} does the same)"));
            else if (@event.EndsWith("Faulted", StringComparison.Ordinal))
                faults.Add(new InferredFault(step.Service, step.Command, "fail", FailuresToReachTheErrorQueue,
                    $"{step.Command} failed in {step.Service} after every retry (inferred from {@event})"));
        }
        foreach (var duplicate in Messages(recording).Where(IsConsumed).GroupBy(TypeOf).Where(g => g.Count() > 1 && g.Key.EndsWith("ed", StringComparison.Ordinal)))
        {
            var command = StepCommands.Values.FirstOrDefault(s => ReplyOf(s.Command) == duplicate.Key);
            if (command != default)
                faults.Add(new InferredFault(command.Service, command.Command, "duplicate", 1,
                    $"the saga consumed {duplicate.Key} {duplicate.Count()} times (inferred: {command.Command} was handled twice)"));
        }
        return faults;
    }

    static string ReplyOf(string command) => command switch
    {
        "DebitCustomer" => "CustomerDebited",
        "CreditMerchant" => "MerchantCredited",
        "AccruePoints" => "PointsAccrued",
        "RefundCustomer" => "CustomerRefunded",
        "ReverseMerchantCredit" => "MerchantCreditReversed",
        "ReversePointsAccrual" => "PointsAccrualReversed",
        _ => "",
    };

    static JsonElement[] Messages(JsonElement? recording) => recording switch
    {
        { ValueKind: JsonValueKind.Array } array => array.EnumerateArray().ToArray(),
        { ValueKind: JsonValueKind.Object } body when body.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array => items.EnumerateArray().ToArray(),
        { ValueKind: JsonValueKind.Object } body when body.TryGetProperty("messages", out var items) && items.ValueKind == JsonValueKind.Array => items.EnumerateArray().ToArray(),
        _ => [],
    };

    static bool IsConsumed(JsonElement message) =>
        (Text(message, "direction") ?? Text(message, "kind") ?? "consumed").StartsWith("consum", StringComparison.OrdinalIgnoreCase);

    static string TypeOf(JsonElement message)
    {
        var type = Text(message, "messageType") ?? Text(message, "type") ?? "";
        // "urn:message:EventShop.Contracts.Accounts:CustomerDebited" or a CLR name: the short name is what the library uses.
        return type[(type.LastIndexOfAny([':', '.']) + 1)..];
    }

    static string Money(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : null;
}
