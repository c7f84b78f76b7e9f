namespace EventShop.Orders.Apis;

/// <summary>The 202 answer to a submitted order.</summary>
public sealed record OrderAccepted(Guid OrderId, string Status);
