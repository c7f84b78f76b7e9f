namespace EventShop.Contracts.Points;

public sealed record PointsAccrualRejected(Guid OrderId, string CustomerId, string Reason);
