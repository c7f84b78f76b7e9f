namespace EventShop.Contracts.Orders;

public sealed record OrderCompleted(Guid OrderId, long PointsAccrued, DateTimeOffset CompletedAt);
