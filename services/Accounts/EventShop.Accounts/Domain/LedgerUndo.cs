namespace EventShop.Accounts.Domain;

/// <summary>Which ledger entries undoing a step involves: the step's entry, the one that reverses it, and the void marker
/// left when the undo arrives first (ADR 0004).</summary>
public sealed record LedgerUndo(LedgerEntryType Original, LedgerEntryType Reversal, LedgerEntryType Voided)
{
    /// <summary>Gives the customer back what the order debited.</summary>
    public static readonly LedgerUndo Refund = new(LedgerEntryType.Debit, LedgerEntryType.Refund, LedgerEntryType.DebitVoided);

    /// <summary>Takes back from the merchant what the order credited.</summary>
    public static readonly LedgerUndo CreditReversal = new(LedgerEntryType.Credit, LedgerEntryType.CreditReversal, LedgerEntryType.CreditVoided);
}
