namespace EventShop.Contracts.Orders;

/// <summary>The saga ended without placing the order; every step already taken has been compensated.</summary>
/// <param name="Reason">Human text for the customer, never an exception's.</param>
/// <param name="FailureCode">A stable code (<c>InsufficientFunds</c>, <c>MerchantFrozen</c>, <c>StepTimedOut</c>, ...); null in
/// messages from before the field existed.</param>
public sealed record OrderCancelled(Guid OrderId, string Reason, DateTimeOffset CancelledAt, string? FailureCode = null);
