using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure.Configurations;
using EventShop.Messaging;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Accounts.Infrastructure;

public sealed class AccountsDbContext(DbContextOptions<AccountsDbContext> options) : DbContext(options)
{
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<LedgerEntry> Ledger => Set<LedgerEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema("accounts");
        modelBuilder.ApplyConfiguration(new AccountConfiguration());
        modelBuilder.ApplyConfiguration(new LedgerEntryConfiguration());
        modelBuilder.AddTransactionalMessaging();
    }

    /// <summary>Loads the account and locks its row until the transaction ends, so concurrent orders never overdraw it.</summary>
    public Task<Account?> LockAccountAsync(string accountId, CancellationToken cancellationToken) =>
        Accounts.FromSql($"SELECT * FROM accounts.accounts WHERE \"AccountId\" = {accountId} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);

    /// <summary>Every ledger entry of one order (at most one per type), read once per message.</summary>
    public async Task<OrderLedger> OrderLedgerAsync(Guid orderId, CancellationToken cancellationToken) =>
        new(await Ledger.Where(x => x.OrderId == orderId).ToListAsync(cancellationToken));
}
