using EventShop.Testing;
using Xunit.Abstractions;

namespace EventShop.EndToEndTests;

/// <summary>
/// EventShop restarted by a supervisor, as the run command does, with a step timeout longer than a restart: a service that
/// dies at a crash point comes back and finishes its work instead of the saga timing the step out.
/// </summary>
public sealed class SupervisedEventShopSystem : EventShopSystem
{
    protected override bool Supervise => true;

    protected override TimeSpan StepTimeout => TimeSpan.FromSeconds(90);
}

[CollectionDefinition(Name)]
public sealed class SupervisedSystemCollection : ICollectionFixture<SupervisedEventShopSystem>
{
    public const string Name = "Supervised EventShop system";
}

/// <summary>
/// The crash points of the fault battery (issue 22) through fault injection (ADR 0014): Accounts dies abruptly while it
/// handles a <c>DebitCustomer</c>, at each point of its unit of work, and after the supervisor's restart the order completes
/// with exactly one debit.
/// </summary>
[Collection(SupervisedSystemCollection.Name)]
public sealed class CrashPointTests(SupervisedEventShopSystem system, ITestOutputHelper output)
{
    readonly ShopClient _shop = new(system);
    readonly FaultLab _faults = new(system);

    [Theory]
    [InlineData("before-commit")]
    [InlineData("after-commit")]
    [InlineData("after-publish")]
    [InlineData("before-ack")]
    public async Task When_accounts_dies_while_debiting_Should_complete_after_the_restart_with_one_debit(string crashPoint)
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(100m, "crash");
        var accounts = system["accounts"];
        var restartsBefore = accounts.Restarts;
        var rule = await _faults.AddAsync(new { service = "accounts", messageType = "DebitCustomer", action = "crash", crashPoint, customerId = customer });
        try
        {
            var submitted = DateTime.UtcNow;
            var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 33.30m);
            var order = await _shop.WaitForOutcomeAsync(orderId, TimeSpan.FromSeconds(120));
            output.WriteLine($"[crash battery] accounts killed at {crashPoint}: order {order.Status} {(DateTime.UtcNow - submitted).TotalSeconds:F1} s after submission");

            Assert.Equal("Completed", order.Status);
            Assert.True(accounts.Restarts > restartsBefore, $"accounts was not restarted\n{accounts.RecentOutput}");
            Assert.Equal(1, (await _faults.GetAsync(rule.Id)).Fired);
            Assert.Equal(["Debit"], (await _shop.LedgerAsync(customer)).Where(e => e.Type != "Opening").Select(e => e.Type));
            Assert.Equal(66.70m, (await _shop.AccountAsync(customer)).Balance);
            Assert.Equal(33.30m, (await _shop.AccountAsync(merchant)).Balance);
            Assert.Equal(33, (await _shop.PointsAsync(customer)).Balance);
            await system.AssertSettledAsync();
        }
        finally
        {
            await _faults.DeleteAsync(rule.Id);
        }
    }
}
