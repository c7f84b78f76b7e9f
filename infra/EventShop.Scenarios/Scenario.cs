using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace EventShop.Scenarios;

/// <summary>
/// One scenario file (docs/scenarios.md): the accounts and members to set up, the faults to inject and when, the orders to
/// place with the outcome each must reach, and what must hold at the end. Ids in a file are short names; the runner prefixes
/// them with a run id, so a scenario can run any number of times on the same system.
/// </summary>
public sealed class Scenario
{
    public string Name { get; set; } = "";
    public string? Description { get; set; }

    /// <summary>What the system must offer: <c>faults</c> (fault injection), <c>restarts</c> (a supervisor that restarts a crashed service).</summary>
    public List<string> Requires { get; set; } = [];

    /// <summary>Runs with no other scenario beside it (a crash or a restart slows every order in flight, not only this one's).</summary>
    public bool Exclusive { get; set; }

    /// <summary>How long each order may take to end, e.g. <c>60s</c>.</summary>
    public string? Timeout { get; set; }

    public List<AccountSetup> Accounts { get; set; } = [];
    public List<MemberSetup> Members { get; set; } = [];
    public List<FaultSetup> Faults { get; set; } = [];
    public List<OrderGroup> Orders { get; set; } = [];
    public FinalExpectation Expect { get; set; } = new();

    /// <summary>Where the scenario was read from (not part of the file).</summary>
    [YamlIgnore]
    public string? Path { get; set; }

    /// <summary>The requirements named in the file plus the ones its content implies.</summary>
    public IReadOnlySet<string> Requirements()
    {
        var requirements = new SortedSet<string>(Requires, StringComparer.OrdinalIgnoreCase);
        if (Faults.Count > 0)
            requirements.Add(Capabilities.Faults);
        if (Faults.Any(f => string.Equals(f.Action, "crash", StringComparison.OrdinalIgnoreCase)))
            requirements.Add(Capabilities.Restarts);
        return requirements;
    }

    public TimeSpan OrderTimeout() => Durations.Parse(Timeout, "timeout") ?? TimeSpan.FromSeconds(60);

    static readonly IDeserializer Reader = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    public static Scenario Load(string path)
    {
        Scenario scenario;
        try
        {
            scenario = Parse(File.ReadAllText(path));
        }
        catch (ScenarioFormatException e)
        {
            throw new ScenarioFormatException($"{path}: {e.Message}");
        }
        scenario.Path = path;
        if (scenario.Name == "")
            scenario.Name = System.IO.Path.GetFileNameWithoutExtension(path);
        return scenario;
    }

    public static Scenario Parse(string yaml)
    {
        Scenario? scenario;
        try
        {
            scenario = Reader.Deserialize<Scenario>(yaml);
        }
        catch (YamlException e)
        {
            // "(Line: 12, Col: 5, ...): Property 'totl' not found on type ...": the position is what the author needs.
            throw new ScenarioFormatException($"line {e.Start.Line}: {(e.InnerException ?? e).Message}");
        }
        scenario ??= new Scenario();
        scenario.Validate();
        return scenario;
    }

    /// <summary>Every mistake a runner would only meet halfway through a run, reported before anything is created.</summary>
    void Validate()
    {
        var errors = new List<string>();
        if (Orders.Count == 0)
            errors.Add("orders: at least one order is needed");
        foreach (var requirement in Requires.Where(r => !Capabilities.Known.Contains(r)))
            errors.Add($"requires: unknown '{requirement}' (known: {string.Join(", ", Capabilities.Known)})");
        foreach (var account in Accounts)
        {
            if (string.IsNullOrWhiteSpace(account.Id))
                errors.Add("accounts: every account needs an id");
            if (account.Kind is not ("customer" or "merchant"))
                errors.Add($"accounts.{account.Id}.kind: must be 'customer' or 'merchant'");
        }
        foreach (var (fault, i) in Faults.Select((f, i) => (f, i)))
        {
            if (!FaultSetup.Services.Contains(fault.Service))
                errors.Add($"faults[{i}].service: must be one of {string.Join(", ", FaultSetup.Services)}");
            if (!FaultSetup.Actions.Contains(fault.Action))
                errors.Add($"faults[{i}].action: must be one of {string.Join(", ", FaultSetup.Actions)}");
            if (fault.Action == "crash" && !FaultSetup.CrashPoints.Contains(fault.CrashPoint ?? ""))
                errors.Add($"faults[{i}].crashPoint: a crash needs one of {string.Join(", ", FaultSetup.CrashPoints)}");
            if (fault.Action == "delay" && fault.DelayMs is null or <= 0)
                errors.Add($"faults[{i}].delayMs: a delay needs a positive delayMs");
            if (string.IsNullOrWhiteSpace(fault.MessageType))
                errors.Add($"faults[{i}].messageType: is required");
            if (fault.AfterOrders < 0)
                errors.Add($"faults[{i}].afterOrders: must not be negative");
            if (fault.Customer is not null && FaultSetup.WithoutCustomer.Contains(fault.MessageType))
                errors.Add($"faults[{i}].customer: {fault.MessageType} does not name the customer, so its rule cannot be limited to one " +
                    "(the system refuses it); leave customer out and make the scenario exclusive");
            if (fault.Customer is null && !Exclusive)
                errors.Add($"faults[{i}].customer: a rule for every customer touches the orders of the scenarios running beside it; " +
                    "limit it to a customer or make the scenario exclusive");
        }
        foreach (var (group, i) in Orders.Select((g, i) => (g, i)))
        {
            var label = group.Label(i);
            if (string.IsNullOrWhiteSpace(group.Customer) || string.IsNullOrWhiteSpace(group.Merchant))
                errors.Add($"orders.{label}: customer and merchant are required");
            if (group.Count < 1)
                errors.Add($"orders.{label}.count: must be at least 1");
            if ((group.Total is null) == (group.Items.Count == 0))
                errors.Add($"orders.{label}: give either total or items");
            if (group.Expect.Status is { } status && status is not ("Completed" or "Cancelled" or "Pending"))
                errors.Add($"orders.{label}.expect.status: must be Completed, Cancelled or Pending");
            try
            {
                Durations.Parse(group.Expect.MinDuration, $"orders.{label}.expect.minDuration");
            }
            catch (ScenarioFormatException e)
            {
                errors.Add(e.Message);
            }
        }
        if (errors.Count > 0)
            throw new ScenarioFormatException(string.Join("; ", errors));
    }
}

public static class Capabilities
{
    public const string Faults = "faults";
    public const string Restarts = "restarts";
    public static readonly IReadOnlySet<string> Known = new HashSet<string>([Faults, Restarts], StringComparer.OrdinalIgnoreCase);
}

public sealed class AccountSetup
{
    public string Id { get; set; } = "";
    public string Kind { get; set; } = "customer";
    public decimal Balance { get; set; }
    public bool Frozen { get; set; }
}

public sealed class MemberSetup
{
    public string Id { get; set; } = "";
    public bool Suspended { get; set; }
}

/// <summary>A rule for <c>POST /api/faults</c>, limited to one of the scenario's customers when <see cref="Customer"/> is set.</summary>
public sealed class FaultSetup
{
    public static readonly IReadOnlySet<string> Services = new HashSet<string>(["orders", "accounts", "points", "sagas"]);
    public static readonly IReadOnlySet<string> Actions = new HashSet<string>(["fail", "delay", "duplicate", "drop-reply", "crash"]);
    public static readonly IReadOnlySet<string> CrashPoints = new HashSet<string>(["before-commit", "after-commit", "after-publish", "before-ack"]);

    /// <summary>Commands of the saga without a <c>CustomerId</c>: <c>POST /api/faults</c> refuses a rule for one customer on them.</summary>
    public static readonly IReadOnlySet<string> WithoutCustomer = new HashSet<string>(["CreditMerchant", "ReverseMerchantCredit"]);

    public string Service { get; set; } = "";
    public string MessageType { get; set; } = "";
    public string Action { get; set; } = "";
    public string? CrashPoint { get; set; }
    public int? DelayMs { get; set; }
    public string? Customer { get; set; }
    public int Times { get; set; } = 1;

    /// <summary>Injected once this many of the scenario's orders have been submitted (0: before the first).</summary>
    public int AfterOrders { get; set; }

    public string Describe() =>
        $"{Action}{(CrashPoint is null ? "" : " at " + CrashPoint)}{(DelayMs is null ? "" : $" {DelayMs} ms")} on {Service}/{MessageType}" +
        $"{(Customer is null ? "" : " for " + Customer)} x{Times}";
}

/// <summary>
/// <see cref="Count"/> orders of the same kind, submitted one after the other (or all at once when <see cref="Concurrent"/>);
/// the runner waits for all of them to end before the next group, unless <see cref="Wait"/> is false.
/// </summary>
public sealed class OrderGroup
{
    public string? Name { get; set; }
    public string Customer { get; set; } = "";
    public string Merchant { get; set; } = "";

    /// <summary>Shorthand for one item of quantity 1 at this price.</summary>
    public decimal? Total { get; set; }

    public List<OrderItem> Items { get; set; } = [];
    public int Count { get; set; } = 1;
    public bool Concurrent { get; set; }
    public bool Wait { get; set; } = true;

    /// <summary>Submits each order a second time with the same Idempotency-Key: the same order must come back.</summary>
    public bool Resubmit { get; set; }

    public OrderExpectation Expect { get; set; } = new();

    public string Label(int index) => Name ?? $"#{index + 1}";

    public IReadOnlyList<OrderItem> ItemsToSubmit() =>
        Items.Count > 0 ? Items : [new OrderItem { Sku = "SCN-1", Quantity = 1, UnitPrice = Total!.Value }];

    public decimal OrderTotal() => ItemsToSubmit().Sum(i => i.Quantity * i.UnitPrice);
}

public sealed class OrderItem
{
    public string Sku { get; set; } = "SCN-1";
    public int Quantity { get; set; } = 1;
    public decimal UnitPrice { get; set; }
}

/// <summary>What each order of a group must end with; a field left out is not checked.</summary>
public sealed class OrderExpectation
{
    public string? Status { get; set; }
    public string? FailureCode { get; set; }

    /// <summary>A part of the human failure reason.</summary>
    public string? FailureReason { get; set; }

    public long? PointsAccrued { get; set; }

    /// <summary>States the saga must pass through, in this order (others may come between).</summary>
    public List<string> States { get; set; } = [];

    /// <summary>The order must take at least this long to end (a delay fault), e.g. <c>2s</c>.</summary>
    public string? MinDuration { get; set; }

    /// <summary>For a group whose orders end differently (a burst): how many end with each outcome, Completed or a failure code.</summary>
    public Dictionary<string, int> Outcomes { get; set; } = [];

    /// <summary>Balances once every order of the group has ended.</summary>
    public Dictionary<string, decimal> Balances { get; set; } = [];

    public Dictionary<string, long> Points { get; set; } = [];
}

public sealed class FinalExpectation
{
    public Dictionary<string, decimal> Balances { get; set; } = [];
    public Dictionary<string, long> Points { get; set; } = [];

    /// <summary>Money and points add up at the end (the system's own check when it has one, and the runner's over the scenario's accounts).</summary>
    public bool Invariants { get; set; } = true;
}

public sealed class ScenarioFormatException(string message) : Exception(message);

public static class Durations
{
    /// <summary><c>250ms</c>, <c>8s</c>, <c>2m</c>; null when absent.</summary>
    public static TimeSpan? Parse(string? text, string field)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : (text, double.NaN);
        if (double.IsNaN(unit) || !double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
            throw new ScenarioFormatException($"{field}: '{text}' is not a duration like 250ms, 8s or 2m");
        return TimeSpan.FromSeconds(value * unit);
    }
}
