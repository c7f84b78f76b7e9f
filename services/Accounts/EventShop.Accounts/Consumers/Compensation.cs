using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;

namespace EventShop.Accounts.Consumers;

/// <summary>
/// Undoing a step never fails for a business reason: it reverses exactly the ledger entry of that order, ignores the
/// frozen flag, and is a no-op the second time. When the step has not happened (yet), it leaves a void marker so the
/// step is rejected if it arrives late. See ADR 0004.
/// </summary>
static class Compensation
{
    /// <returns>The amount moved back (0 when the original step never happened).</returns>
    public static async Task<decimal> ReverseAsync(AccountsDbContext db, string accountId, Guid orderId,
        LedgerEntryType original, LedgerEntryType reversal, LedgerEntryType voided, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var account = await db.LockAccountAsync(accountId, cancellationToken);
        var ledger = await db.OrderLedgerAsync(orderId, cancellationToken);

        var done = ledger.Find(reversal);
        if (done is not null)
            return done.Amount;

        var entry = ledger.Find(original);
        if (entry is null || account is null)
        {
            if (!ledger.Has(voided))
                db.Ledger.Add(new LedgerEntry { AccountId = accountId, OrderId = orderId, Type = voided, Amount = 0, CreatedAt = now });
            return 0;
        }

        var reversed = account.Post(orderId, reversal, -entry.Amount, now);
        db.Ledger.Add(reversed);
        return reversed.Amount;
    }
}
