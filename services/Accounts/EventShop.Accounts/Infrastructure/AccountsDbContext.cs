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

    /// <summary>
    /// Serialises every handler of one order in this database (a step, its undo, their redeliveries) until the transaction
    /// ends, so the void-marker protocol of ADR 0004 sees either the step or its undo, never both half-done. A transaction
    /// advisory lock on the order id, not a row lock on the account: one merchant's orders do not queue behind each other.
    /// Then reads what the handler decides on, in the same round trip (statements run in order, each with a snapshot taken
    /// after the lock is granted): the order's ledger entries and, when <paramref name="accountId"/> is given, the account,
    /// locked with <paramref name="lockAccount"/> (a debit checks its balance and then moves it). Nothing is tracked by EF:
    /// balances move through <see cref="Post"/>.
    /// </summary>
    public async Task<(Account? Account, OrderLedger Ledger)> LockOrderAsync(Guid orderId, string? accountId, bool lockAccount,
        CancellationToken cancellationToken)
    {
        await using var batch = Database.CreateBatch()
            .Add("SELECT pg_advisory_xact_lock($1)", OrderLockKey(orderId))
            .Add("""SELECT "Id", "AccountId", "Type", "Amount", "CreatedAt" FROM accounts.ledger_entries WHERE "OrderId" = $1""", orderId);
        if (accountId is not null)
            batch.Add($"""
                SELECT "AccountId", "Kind", "Balance", "Status", "CreatedAt", "UpdatedAt" FROM accounts.accounts WHERE "AccountId" = $1
                {(lockAccount ? "FOR UPDATE" : "")}
                """, accountId);

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);

        var entries = new List<LedgerEntry>(2);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new LedgerEntry
            {
                Id = reader.GetInt64(0), AccountId = reader.GetString(1), OrderId = orderId,
                Type = Enum.Parse<LedgerEntryType>(reader.GetString(2)), Amount = reader.GetDecimal(3),
                CreatedAt = reader.GetFieldValue<DateTimeOffset>(4),
            });
        }

        Account? account = null;
        if (accountId is not null && await reader.NextResultAsync(cancellationToken) && await reader.ReadAsync(cancellationToken))
        {
            account = new Account
            {
                AccountId = reader.GetString(0), Kind = Enum.Parse<AccountKind>(reader.GetString(1)),
                Status = Enum.Parse<AccountStatus>(reader.GetString(3)),
                CreatedAt = reader.GetFieldValue<DateTimeOffset>(4), UpdatedAt = reader.GetFieldValue<DateTimeOffset>(5),
            };
            // The balance has no public setter (only Account.Post moves it): set through EF's entry, which stays detached.
            Entry(account).Property(x => x.Balance).CurrentValue = reader.GetDecimal(2);
        }

        return (account, new OrderLedger(entries));
    }

    /// <summary>
    /// Writes a ledger entry and moves its account's balance by the entry's amount in one atomic UPDATE. Both go in the batch
    /// the transactional filter sends after the handler, the UPDATE as its last statement: it locks the account row until
    /// commit, and on a merchant every order's credit queues for that row, so it is held from that batch to the commit
    /// instead of for the whole handler. A debit has locked its customer's row already and checked the balance under it.
    /// </summary>
    public static void Post(MessagingTransaction transaction, LedgerEntry entry)
    {
        transaction.Insert(entry);
        transaction.Write(entry, TransactionBatch.Command("""
            UPDATE accounts.accounts SET "Balance" = "Balance" + $1, "UpdatedAt" = $2 WHERE "AccountId" = $3
            """, entry.Amount, entry.CreatedAt, entry.AccountId));
    }

    /// <summary>
    /// The advisory lock key: both halves of the order id folded together (NewId puts the timestamp in one half and the
    /// sequence in the other). Two orders sharing a key only wait for each other; nothing else uses advisory locks here.
    /// </summary>
    static long OrderLockKey(Guid orderId)
    {
        Span<byte> bytes = stackalloc byte[16];
        orderId.TryWriteBytes(bytes);
        return BitConverter.ToInt64(bytes[..8]) ^ BitConverter.ToInt64(bytes[8..]);
    }
}
