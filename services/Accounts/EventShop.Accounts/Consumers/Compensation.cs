using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;
using EventShop.Messaging;

namespace EventShop.Accounts.Consumers;

/// <summary>
/// Undoing a step never fails for a business reason: it reverses exactly the ledger entry of that order, ignores the
/// frozen flag and the balance, and is a no-op the second time. When the step has not happened (yet), it leaves a void
/// marker so the step is rejected if it arrives late. See ADR 0004.
/// </summary>
static class Compensation
{
    /// <summary>
    /// Decides the undo under the order's lock. The caller publishes the outcome and queues the reversal with
    /// <see cref="Reversal.Apply"/>; its balance update goes last in the message's final batch, so the account row is
    /// locked only from there to the commit.
    /// </summary>
    public static async Task<Reversal> PlanAsync(AccountsDbContext db, string accountId, Guid orderId,
        LedgerEntryType original, LedgerEntryType reversal, LedgerEntryType voided, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (_, ledger) = await db.LockOrderAsync(orderId, accountId: null, lockAccount: false, cancellationToken);

        if (ledger.Find(reversal) is { } done)
            return new Reversal(done.Amount, null);

        if (ledger.Find(original) is not { } entry)
        {
            if (!ledger.Has(voided))
                db.Ledger.Add(new LedgerEntry { AccountId = accountId, OrderId = orderId, Type = voided, Amount = 0, CreatedAt = now });
            return new Reversal(0, null);
        }

        return new Reversal(-entry.Amount,
            new LedgerEntry { AccountId = entry.AccountId, OrderId = orderId, Type = reversal, Amount = -entry.Amount, CreatedAt = now });
    }

    /// <param name="Amount">The amount moved back (0 when the original step never happened), signed as its ledger entry.</param>
    /// <param name="ToPost">The reversing entry still to write, or null when there is nothing (more) to move.</param>
    public sealed record Reversal(decimal Amount, LedgerEntry? ToPost)
    {
        public void Apply(MessagingTransaction transaction)
        {
            if (ToPost is not null)
                AccountsDbContext.Post(transaction, ToPost);
        }
    }
}
