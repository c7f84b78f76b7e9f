using EventShop.Accounts.Domain;
using EventShop.Messaging;
using EventShop.Messaging.Storage;

namespace EventShop.Accounts.Infrastructure;

/// <summary>
/// The accounts and their ledger as the message handlers see them, through the message's <see cref="UnitOfWork"/>: every
/// handler of one order is serialised on that order, reads what it decides on in the same round trip, and moves balances
/// only by posting ledger entries. Nothing here is tracked by EF.
/// </summary>
public sealed class AccountBook(UnitOfWork unitOfWork)
{
    /// <summary>Locks the order (see <see cref="LockOrder"/>) and reads its ledger entries.</summary>
    public async Task<OrderLedger> LockOrderAsync(Guid orderId, CancellationToken cancellationToken)
    {
        var batch = LockOrder(orderId, out var entries);
        await batch.ExecuteAsync(cancellationToken);
        return new OrderLedger(entries.Rows);
    }

    /// <summary>
    /// Locks the order, then reads its ledger entries and the account without locking it: a credit needs no balance check,
    /// and every order credits the same few merchants, so they must not queue on the merchant's row to decide.
    /// </summary>
    public async Task<(Account? Account, OrderLedger Ledger)> LockOrderAndReadAccountAsync(Guid orderId, string accountId,
        CancellationToken cancellationToken)
    {
        var batch = LockOrder(orderId, out var entries);
        var account = batch.Read<Account>(accountId);
        await batch.ExecuteAsync(cancellationToken);
        return (account.Row, new OrderLedger(entries.Rows));
    }

    /// <summary>Locks the order, then the account (a debit checks its balance and then moves it), and reads both.</summary>
    public async Task<(Account? Account, OrderLedger Ledger)> LockOrderAndAccountAsync(Guid orderId, string accountId,
        CancellationToken cancellationToken)
    {
        var batch = LockOrder(orderId, out var entries);
        var account = batch.Lock<Account>(accountId);
        await batch.ExecuteAsync(cancellationToken);
        return (account.Row, new OrderLedger(entries.Rows));
    }

    /// <summary>
    /// Writes a ledger entry and moves its account's balance by the entry's amount in one atomic UPDATE, both with the unit of
    /// work's other writes, the UPDATE after every insert: it locks the account row until commit, and on a merchant every
    /// order's credit queues for that row, so it is held from the final batch to the commit instead of for the whole handler.
    /// A debit has locked its customer's row already and checked the balance under it.
    /// </summary>
    public void Post(LedgerEntry entry)
    {
        unitOfWork.Insert(entry);
        unitOfWork.Write(entry, Sql.Command("""
            UPDATE accounts.accounts SET "Balance" = "Balance" + $1, "UpdatedAt" = $2 WHERE "AccountId" = $3
            """, entry.Amount, entry.CreatedAt, entry.AccountId));
    }

    /// <summary>Records that a step was undone before it happened (ADR 0004): it moves no money.</summary>
    public void Void(string accountId, Guid orderId, LedgerEntryType voided, DateTimeOffset now) =>
        unitOfWork.Insert(new LedgerEntry { AccountId = accountId, OrderId = orderId, Type = voided, Amount = 0, CreatedAt = now });

    /// <summary>
    /// Serialises every handler of one order in this database (a step, its undo, their redeliveries) until the transaction
    /// ends, so the void-marker protocol of ADR 0004 sees either the step or its undo, never both half-done. A transaction
    /// advisory lock on the order id, not a row lock on the account: one merchant's orders do not queue behind each other.
    /// The reads added after it see what the lock's previous holder committed.
    /// </summary>
    RowBatch LockOrder(Guid orderId, out RowSet<LedgerEntry> entries)
    {
        var batch = unitOfWork.Batch().Select("SELECT pg_advisory_xact_lock($1)", OrderLockKey(orderId));
        entries = batch.Where<LedgerEntry>("""
            "OrderId" = $1
            """, orderId);
        return batch;
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
