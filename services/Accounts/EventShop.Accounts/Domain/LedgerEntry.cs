namespace EventShop.Accounts.Domain;

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
