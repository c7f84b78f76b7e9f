using EventShop.Messaging.Hosting;
using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;
using EventShop.ServiceDefaults;
using EventShop.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace EventShop.IntegrationTests;

/// <summary>The ledger invariant the end-to-end tests check must be able to fail: here it is shown a ledger that breaks it.</summary>
public sealed class LedgerInvariantTests : IClassFixture<IsolatedInfrastructure>, IAsyncLifetime
{
    readonly IsolatedInfrastructure _infrastructure;

    public LedgerInvariantTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    AccountsDbContext NewDbContext() => new(new DbContextOptionsBuilder<AccountsDbContext>()
        .UseNpgsql(_infrastructure.ConnectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", "public"))
        .LeaveFailedCommandsToTheirCallers().Options);

    public async Task InitializeAsync()
    {
        await using var db = NewDbContext();
        await db.Database.MigrateAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    async Task<long> ContradictionsAfterAsync(params (LedgerEntryType Type, decimal Amount)[] entries)
    {
        await using var db = NewDbContext();
        var orderId = NewId.NextGuid();
        foreach (var (type, amount) in entries)
            db.Ledger.Add(new LedgerEntry { AccountId = "alice", OrderId = orderId, Type = type, Amount = amount, CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return await Invariants.ScalarAsync(_infrastructure.ConnectionString, Invariants.ContradictoryLedgerEntriesSql);
    }

    [Fact]
    public async Task Should_count_a_step_that_moved_money_after_its_void_marker_or_an_undo_of_another_amount()
    {
        Assert.Equal(0, await ContradictionsAfterAsync((LedgerEntryType.Debit, -10m), (LedgerEntryType.Refund, 10m)));
        Assert.Equal(0, await ContradictionsAfterAsync((LedgerEntryType.DebitVoided, 0m)));
        Assert.Equal(1, await ContradictionsAfterAsync((LedgerEntryType.DebitVoided, 0m), (LedgerEntryType.Debit, -10m)));
        Assert.Equal(2, await ContradictionsAfterAsync((LedgerEntryType.Credit, 10m), (LedgerEntryType.CreditReversal, -7m)));
    }
}
