using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;

namespace EventShop.Accounts.Consumers;

/// <summary>
/// Undoing a step never fails for a business reason: it reverses exactly the ledger entry of that order, ignores the
/// frozen flag and the balance, and is a no-op the second time. When the step has not happened (yet), it leaves a void
/// marker so the step is rejected if it arrives late. See ADR 0004.
/// </summary>
public sealed class Compensation(AccountBook book, TimeProvider clock)
{
    /// <summary>
    /// Decides the undo under the order's lock and posts the reversing entry (its balance update goes last in the message's
    /// final batch, so the account row is locked only from there to the commit).
    /// </summary>
    /// <returns>The amount moved back (0 when the original step never happened), signed as its ledger entry.</returns>
    public async Task<decimal> UndoAsync(LedgerUndo undo, string accountId, Guid orderId, CancellationToken cancellationToken)
    {
        var ledger = await book.LockOrderAsync(orderId, cancellationToken);

        if (ledger.Find(undo.Reversal) is { } done)
            return done.Amount;

        if (ledger.Find(undo.Original) is not { } entry)
        {
            if (!ledger.Has(undo.Voided))
                book.Void(accountId, orderId, undo.Voided, clock.GetUtcNow());
            return 0;
        }

        book.Post(new LedgerEntry
        {
            AccountId = entry.AccountId, OrderId = orderId, Type = undo.Reversal, Amount = -entry.Amount, CreatedAt = clock.GetUtcNow(),
        });
        return -entry.Amount;
    }
}
