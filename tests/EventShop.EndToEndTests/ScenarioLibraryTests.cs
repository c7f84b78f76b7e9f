using System.Collections.Concurrent;
using EventShop.Scenarios;
using EventShop.Testing;
using Xunit.Abstractions;

namespace EventShop.EndToEndTests;

/// <summary>
/// EventShop for the scenario library: fault injection on (as every fixture), and a supervisor that restarts a service a
/// crash fault killed, as the run command does. The step timeout is longer than a restart on a loaded machine (so a crashed
/// step finishes after the restart instead of being compensated) and short enough that the drop-reply scenarios, which wait
/// for it, stay quick.
/// </summary>
public sealed class ScenarioEventShopSystem : EventShopSystem
{
    protected override bool Supervise => true;

    protected override TimeSpan StepTimeout => TimeSpan.FromSeconds(20);
}

[CollectionDefinition(Name)]
public sealed class ScenarioSystemCollection : ICollectionFixture<ScenarioEventShopSystem>
{
    public const string Name = "EventShop system for the scenario library";
}

/// <summary>
/// The scenario library (scenarios/, docs/scenarios.md) run in-process against the running system, as
/// <c>infra/eventshop scenario run --all</c> runs it. The first scenario to be asked for runs the whole library, several
/// scenarios at once (each has accounts of its own); every scenario then reports its own result as one test case.
/// </summary>
[Collection(ScenarioSystemCollection.Name)]
public sealed class ScenarioLibraryTests(ScenarioEventShopSystem system, ITestOutputHelper output)
{
    static readonly string Library = Path.Combine(RepositoryLayout.Root, "scenarios");
    static readonly ConcurrentDictionary<EventShopSystem, Lazy<Task<IReadOnlyDictionary<string, ScenarioResult>>>> Runs = new();

    /// <summary>
    /// Scenarios the system gets wrong (a finding, not a wrong expectation): kept skipped, with the finding, until it is fixed.
    /// </summary>
    static readonly Dictionary<string, string> Findings = new()
    {
    };

    public static TheoryData<string> Scenarios() =>
        new(ScenarioLibrary.Files(Library).Select(f => Path.GetRelativePath(Library, f)).Where(f => !Findings.ContainsKey(f)));

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task The_scenario_holds(string file)
    {
        var results = await Runs.GetOrAdd(system, _ => new Lazy<Task<IReadOnlyDictionary<string, ScenarioResult>>>(RunLibraryAsync)).Value;

        var result = results[file];
        output.WriteLine(result.Output);
        Assert.True(result.Verdict == Verdict.Passed, result.Summary);
    }

    /// <summary>Every scenario the fixture can run, 2 at a time (2 cores), bounded as a whole.</summary>
    async Task<IReadOnlyDictionary<string, ScenarioResult>> RunLibraryAsync()
    {
        // A freshly started system's first orders pay for JIT and connection warm-up in every service; with a short step
        // timeout on a loaded machine they can time out. One order first, whatever its outcome, so the scenarios
        // measure the system and not its start.
        var shop = new ShopClient(system);
        var (customer, merchant) = await shop.OpenCustomerAndMerchantAsync();
        await shop.WaitForOutcomeAsync(await shop.SubmitOrderAsync(customer, merchant, unitPrice: 1m));

        using var gateway = Gateway.Create(system.GatewayAddress);
        // The fixture's supervisor restarts a service a crash fault killed.
        var runner = new ScenarioRunner(gateway, restartsCrashedServices: true);
        var files = ScenarioLibrary.Files(Library).Where(f => !Findings.ContainsKey(Path.GetRelativePath(Library, f))).ToArray();
        var scenarios = files.Select(Scenario.Load).ToArray();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var results = await ScenarioLibrary.RunAllAsync(runner, scenarios, parallelism: 2, _ => { }, timeout.Token);
        return files.Zip(scenarios).ToDictionary(
            pair => Path.GetRelativePath(Library, pair.First),
            pair => results.Single(r => r.Name == pair.Second.Name));
    }

    [Fact]
    public async Task A_wrong_expectation_fails_naming_the_order_and_the_difference()
    {
        var scenario = Scenario.Parse("""
            name: wrong-expectation
            accounts:
              - { id: customer, kind: customer, balance: 10.00 }
              - { id: merchant, kind: merchant, balance: 0.00 }
            orders:
              - name: too-expensive
                customer: customer
                merchant: merchant
                total: 25.00
                expect: { status: Completed, failureCode: AccountFrozen }
            expect:
              balances: { customer: 15.00 }
            """);
        using var gateway = Gateway.Create(system.GatewayAddress);
        var runner = new ScenarioRunner(gateway, restartsCrashedServices: false);

        var result = await runner.RunAsync(scenario, await runner.ProbeAsync());

        output.WriteLine(result.Output);
        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.Contains(result.Differences, d => d.StartsWith("order too-expensive (", StringComparison.Ordinal)
            && d.Contains("status expected Completed, actual Cancelled", StringComparison.Ordinal));
        Assert.Contains(result.Differences, d => d.StartsWith("order too-expensive (", StringComparison.Ordinal)
            && d.Contains("failureCode expected AccountFrozen, actual InsufficientFunds", StringComparison.Ordinal));
        Assert.Contains("balance of customer at the end: expected 15.00, actual 10.00", result.Differences);
        // Only what was wrong: the invariants over the scenario's accounts hold.
        Assert.Equal(3, result.Differences.Count);
        Assert.Contains("Debiting -> Cancelled", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scenario_the_system_cannot_run_says_why_instead_of_failing_midway()
    {
        var scenario = Scenario.Parse("""
            faults:
              - { service: accounts, messageType: DebitCustomer, action: fail, customer: c, times: 7 }
            orders:
              - { customer: c, merchant: m, total: 1.00, expect: { status: Cancelled } }
            """);
        using var gateway = Gateway.Create(system.GatewayAddress);
        var runner = new ScenarioRunner(gateway, restartsCrashedServices: false);
        var capabilities = await runner.ProbeAsync();

        var result = await runner.RunAsync(scenario, capabilities with { Faults = false });

        Assert.Equal(Verdict.Unavailable, result.Verdict);
        Assert.Equal(["fault injection is not available (404 from /api/faults)"], result.Differences);
    }

    [Fact]
    public async Task An_exported_order_reproduces_itself()
    {
        var shop = new ShopClient(system);
        var customer = ShopClient.NewId("cust");
        var merchant = ShopClient.NewId("shop");
        await shop.CreateAccountAsync(customer, "customer", 100m);
        await shop.CreateAccountAsync(merchant, "merchant", 0m);
        await shop.OperatorPostAsync($"/api/accounts/{merchant}/freeze");
        var orderId = await shop.SubmitOrderAsync(customer, merchant, unitPrice: 12.50m);
        Assert.Equal("Cancelled", (await shop.WaitForOutcomeAsync(orderId)).Status);
        using var gateway = Gateway.Create(system.GatewayAddress);

        var yaml = await new ScenarioExporter(gateway).ExportAsync(orderId);
        output.WriteLine(yaml);
        var exported = Scenario.Parse(yaml);
        var runner = new ScenarioRunner(gateway, restartsCrashedServices: false);
        var result = await runner.RunAsync(exported, await runner.ProbeAsync());

        output.WriteLine(result.Output);
        Assert.Equal("MerchantFrozen", exported.Orders.Single().Expect.FailureCode);
        Assert.Equal(["Debiting", "Crediting", "Refunding", "Cancelled"], exported.Orders.Single().Expect.States);
        Assert.True(result.Verdict == Verdict.Passed, result.Summary);
    }
}
