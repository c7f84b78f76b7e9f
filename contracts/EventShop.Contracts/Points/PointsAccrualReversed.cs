namespace EventShop.Contracts.Points;

public sealed record PointsAccrualReversed(Guid OrderId, string CustomerId, long Points);
