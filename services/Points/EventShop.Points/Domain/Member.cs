namespace EventShop.Points.Domain;

public enum MemberStatus { Active, Suspended }

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
}
