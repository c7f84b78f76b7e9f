namespace EventShop.Accounts.Domain;

public enum LedgerEntryType
{
    Debit,
    Refund,
    Credit,
    CreditReversal,

    /// <summary>A refund arrived before its debit (the saga timed out first): the debit, if it ever arrives, is rejected.</summary>
    DebitVoided,

    /// <summary>A reversal arrived before its credit: the credit, if it ever arrives, is rejected.</summary>
    CreditVoided,

    /// <summary>
    /// The balance an account was opened with, so that every balance is the sum of its ledger. It belongs to no order:
    /// its OrderId is <see cref="System.Guid.Empty"/>, and an account has at most one.
    /// </summary>
    Opening,

    /// <summary>
    /// An operator's correction of a balance, with its author and reason. Like <see cref="Opening"/> it belongs to no order
    /// (OrderId <see cref="System.Guid.Empty"/>): money entering or leaving the system from outside, never from an order.
    /// </summary>
    Adjustment,
}
