namespace EventShop.Accounts.Domain;

/// <summary>
/// Append-only. At most one entry per (order, type): a redelivered or duplicated command cannot move money twice. Entries of
/// no order (opening, adjustments) are kept unique otherwise: one opening per account, one adjustment per author and key.
/// </summary>
public sealed class LedgerEntry
{
    public long Id { get; init; }
    public required string AccountId { get; init; }
    public Guid OrderId { get; init; }
    public LedgerEntryType Type { get; init; }
    public decimal Amount { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Who made an <see cref="LedgerEntryType.Adjustment"/> (the operator token's subject); null on every other entry.</summary>
    public string? Author { get; init; }

    /// <summary>Why the operator adjusted the balance; null on every other entry.</summary>
    public string? Reason { get; init; }

    /// <summary>The adjustment request's Idempotency-Key, unique per <see cref="Author"/>: a retried request finds this entry.</summary>
    public string? IdempotencyKey { get; init; }
}
