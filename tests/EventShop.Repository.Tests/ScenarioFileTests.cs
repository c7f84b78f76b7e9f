using EventShop.Scenarios;
using EventShop.Testing;

namespace EventShop.Repository.Tests;

/// <summary>The scenario library and its format (docs/scenarios.md), without running anything.</summary>
public sealed class ScenarioFileTests
{
    static readonly string Library = Path.Combine(RepositoryLayout.Root, "scenarios");

    public static TheoryData<string> Files() => new(ScenarioLibrary.Files(Library).Select(f => Path.GetRelativePath(Library, f)));

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_scenario_file_reads_and_expects_an_outcome_of_each_order(string file)
    {
        var scenario = Scenario.Load(Path.Combine(Library, file));

        Assert.All(scenario.Orders, group => Assert.True(group.Expect.Status is not null || group.Expect.Outcomes.Count > 0,
            $"{file}: orders {group.Name} expect no status and no outcomes"));
        Assert.True(scenario.Expect.Balances.Count > 0 || scenario.Orders.Any(g => g.Expect.Balances.Count > 0), $"{file}: no balances expected");
    }

    [Fact]
    public void Scenario_names_are_unique_so_a_name_finds_one_file()
    {
        var names = ScenarioLibrary.Files(Library).Select(Path.GetFileNameWithoutExtension).ToArray();

        Assert.Equal(names.Distinct().Count(), names.Length);
        Assert.EndsWith("insufficient-funds.yaml", ScenarioLibrary.Resolve("insufficient-funds", Library), StringComparison.Ordinal);
    }

    [Fact]
    public void The_library_covers_every_fault_action_on_every_step_and_compensation_and_every_crash_point()
    {
        var faults = ScenarioLibrary.Files(Library).Select(Scenario.Load).SelectMany(s => s.Faults).ToArray();
        string[] messages = ["DebitCustomer", "CreditMerchant", "AccruePoints", "RefundCustomer", "ReverseMerchantCredit", "ReversePointsAccrual"];

        foreach (var message in messages)
            foreach (var action in FaultSetup.Actions)
                Assert.Contains(faults, f => f.MessageType == message && f.Action == action);
        foreach (var crashPoint in FaultSetup.CrashPoints)
            Assert.Contains(faults, f => f.MessageType == "DebitCustomer" && f.CrashPoint == crashPoint);
    }

    [Fact]
    public void A_misspelt_field_is_reported_with_its_line()
    {
        var error = Assert.Throws<ScenarioFormatException>(() => Scenario.Parse("""
            accounts:
              - { id: c, kind: customer, balance: 10.00 }
            orders:
              - customer: c
                merchant: m
                totl: 25.00
            """));

        Assert.Contains("line 6", error.Message, StringComparison.Ordinal);
        Assert.Contains("totl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fault_without_what_it_needs_is_refused_before_anything_runs()
    {
        var error = Assert.Throws<ScenarioFormatException>(() => Scenario.Parse("""
            faults:
              - { service: accounts, messageType: DebitCustomer, action: crash }
              - { service: ledger, messageType: DebitCustomer, action: explode }
            orders:
              - { customer: c, merchant: m, total: 1.00 }
            """));

        Assert.Contains("faults[0].crashPoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("faults[1].service", error.Message, StringComparison.Ordinal);
        Assert.Contains("faults[1].action", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Faults_imply_their_requirements()
    {
        var scenario = Scenario.Parse("""
            faults:
              - { service: accounts, messageType: DebitCustomer, action: crash, crashPoint: before-ack, customer: c }
            orders:
              - { customer: c, merchant: m, total: 1.00 }
            """);

        Assert.Equal(["faults", "restarts"], scenario.Requirements());
        Assert.Equal("fault injection is not available (404 from /api/faults)",
            new SystemCapabilities(Faults: false, InvariantsApi: false, Restarts: true).Missing(scenario.Requirements()));
    }

    [Theory]
    [InlineData("StepTimedOut", "Customer debit timed out")]
    [InlineData("InsufficientFunds", "Customer debit rejected: InsufficientFunds")]
    [InlineData("MerchantFrozen", "Merchant credit rejected: AccountFrozen")]
    [InlineData("MerchantNotFound", "Merchant credit rejected: AccountNotFound")]
    [InlineData("MemberSuspended", "Points accrual rejected: MemberSuspended")]
    [InlineData("StepFailed", "Merchant credit failed: boom")]
    [InlineData("StepFailed", "Points accrual failed")]
    public void A_failure_code_is_read_from_the_reason_while_the_API_has_none(string code, string reason) =>
        Assert.Equal(code, FailureCodes.FromReason(reason));
}
