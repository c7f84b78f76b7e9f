namespace EventShop.Points.Domain;

/// <summary>Append-only loyalty ledger; at most one entry per (order, type).</summary>
public sealed class PointsEntry
{
    public long Id { get; init; }
    public required string CustomerId { get; init; }
    public Guid OrderId { get; init; }
    public PointsEntryType Type { get; init; }
    public long Points { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}
