using EventShop.Contracts;

namespace EventShop.Points.Domain;

/// <summary>A loyalty member. Created on first accrual or suspension: a customer who never earned points has none.</summary>
public sealed class Member
{
    public required string CustomerId { get; init; }
    public long Balance { get; private set; }
    public MemberStatus Status { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public PointsEntry Post(Guid orderId, PointsEntryType type, long points, DateTimeOffset now)
    {
        Balance += points;
        UpdatedAt = now;
        return new PointsEntry { CustomerId = CustomerId, OrderId = orderId, Type = type, Points = points, CreatedAt = now };
    }

    /// <summary>
    /// Why this member may not earn the points of the order whose entries are <paramref name="orderEntries"/>, or null when
    /// it may. An accrual already on the ledger is accepted again (a repeat moves nothing), even once the member is
    /// suspended; one the saga has already reversed (voided) is never accepted.
    /// </summary>
    public string? RejectAccrual(IReadOnlyDictionary<PointsEntryType, PointsEntry> orderEntries)
    {
        if (orderEntries.ContainsKey(PointsEntryType.AccrualVoided))
            return RejectionReasons.Voided;
        if (orderEntries.ContainsKey(PointsEntryType.Accrual))
            return null;
        return Status == MemberStatus.Suspended ? RejectionReasons.MemberSuspended : null;
    }
}
