namespace EventShop.Contracts.Orders;

/// <summary>The saga ended without placing the order; every step already taken has been compensated.</summary>
public sealed record OrderCancelled(Guid OrderId, string Reason, DateTimeOffset CancelledAt);
