namespace EventShop.Contracts.Points;

public sealed record PointsAccrued(Guid OrderId, string CustomerId, long Points);
