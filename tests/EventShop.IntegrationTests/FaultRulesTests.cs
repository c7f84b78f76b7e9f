using System.Diagnostics;
using EventShop.Accounts.Infrastructure;
using EventShop.Contracts.Accounts;
using EventShop.Messaging.Faults;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace EventShop.IntegrationTests;

/// <summary>Fault rules on a real service database (ADR 0014): shared by replicas, counted once per firing, scoped to a customer.</summary>
public sealed class FaultRulesTests(IsolatedInfrastructure infrastructure, ITestOutputHelper output) : IClassFixture<IsolatedInfrastructure>, IAsyncLifetime
{
    MigratedServiceDatabase<AccountsDbContext> _database = null!;

    public async Task InitializeAsync()
    {
        _database = new MigratedServiceDatabase<AccountsDbContext>(infrastructure.ConnectionString);
        await _database.MigrateAsync();
    }

    public async Task DisposeAsync() => await _database.ReleaseAsync();

    /// <summary>One replica's view of the rules.</summary>
    FaultRules Replica(TimeSpan? cacheDuration = null) =>
        new(_database.ScopeFactory, typeof(AccountsDbContext),
            Options.Create(new FaultsOptions { Enabled = true, CacheDuration = cacheDuration ?? TimeSpan.FromSeconds(1) }), TimeProvider.System);

    static FaultRule Rule(string messageType, string action, int times, string? customerId = null) =>
        new(Guid.NewGuid(), "accounts", messageType, action, null, null, customerId, times, 0, default, null);

    [Fact]
    public async Task Should_fire_exactly_times_in_all_across_replicas_firing_at_once()
    {
        using var first = Replica();
        using var second = Replica();
        var rule = await first.AddAsync(Rule("DebitCustomer", FaultActions.Fail, times: 5), CancellationToken.None);
        var message = new DebitCustomer(Guid.NewGuid(), "alice", 10m);

        var fired = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            (i % 2 == 0 ? first : second).FireAsync("DebitCustomer", message, CancellationToken.None).AsTask()));

        Assert.Equal(5, fired.Count(r => r is not null));
        Assert.Equal([1, 2, 3, 4, 5], fired.Where(r => r is not null).Select(r => r!.Fired).Order());
        Assert.Equal(5, (await second.FindAsync(rule.Id, CancellationToken.None))!.Fired);
    }

    [Fact]
    public async Task Should_fire_only_for_the_named_customer_and_message_type()
    {
        using var rules = Replica();
        await rules.AddAsync(Rule("DebitCustomer", FaultActions.Delay, times: 10, customerId: "victim"), CancellationToken.None);

        Assert.Null(await rules.FireAsync("DebitCustomer", new DebitCustomer(Guid.NewGuid(), "bystander", 1m), CancellationToken.None));
        Assert.Null(await rules.FireAsync("RefundCustomer", new RefundCustomer(Guid.NewGuid(), "victim"), CancellationToken.None));
        Assert.NotNull(await rules.FireAsync("DebitCustomer", new DebitCustomer(Guid.NewGuid(), "victim", 1m), CancellationToken.None));
    }

    [Fact]
    public async Task Should_see_a_rule_added_by_another_replica_within_the_cache_duration_and_forget_a_deleted_one()
    {
        using var adding = Replica();
        using var other = Replica(TimeSpan.FromMilliseconds(200));
        var message = new DebitCustomer(Guid.NewGuid(), "alice", 1m);
        Assert.Null(await other.FireAsync("DebitCustomer", message, CancellationToken.None));

        var rule = await adding.AddAsync(Rule("DebitCustomer", FaultActions.Duplicate, times: 100), CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(rule.Id, (await other.FireAsync("DebitCustomer", message, CancellationToken.None))?.Id);

        Assert.True(await adding.DeleteAsync(rule.Id, CancellationToken.None));
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Null(await other.FireAsync("DebitCustomer", message, CancellationToken.None));
        Assert.False(await adding.DeleteAsync(rule.Id, CancellationToken.None));
    }

    /// <summary>
    /// What the filter costs each message when no rule matches (rules cached): printed, not asserted against a time (speed
    /// targets are never timed tests). Asserted: no database round trip per message, one read per cache period at most.
    /// </summary>
    [Fact]
    public async Task Cost_per_message_when_no_rule_matches()
    {
        using var rules = Replica(TimeSpan.FromSeconds(30));
        await rules.AddAsync(Rule("RefundCustomer", FaultActions.Fail, times: 1, customerId: "someone-else"), CancellationToken.None);
        var message = new DebitCustomer(Guid.NewGuid(), "alice", 1m);
        Assert.Null(await rules.FireAsync("DebitCustomer", message, CancellationToken.None)); // loads the cache

        const int messages = 1_000_000;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < messages; i++)
        {
            if (await rules.FireAsync("DebitCustomer", message, CancellationToken.None) is not null)
                Assert.Fail("a rule for another message type fired");
        }
        watch.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        output.WriteLine($"[fault injection cost] {watch.Elapsed.TotalNanoseconds / messages:F0} ns wall, {cpu.TotalNanoseconds / messages:F0} ns CPU, " +
            $"{(double)allocated / messages:F1} bytes allocated per message with one non-matching rule cached");
        // Completed synchronously from the cache: no allocation per message, so no database call either.
        Assert.True(allocated < messages, $"{allocated} bytes allocated for {messages} messages");
    }
}
