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
}

/// <summary>Append-only. At most one entry per (order, type): a redelivered or duplicated command cannot move money twice.</summary>
public sealed class LedgerEntry
{
    public long Id { get; init; }
    public required string AccountId { get; init; }
    public Guid OrderId { get; init; }
    public LedgerEntryType Type { get; init; }
    public decimal Amount { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}
