namespace EventShop.Contracts.Points;

public sealed record AccruePoints(Guid OrderId, string CustomerId, long Points);
