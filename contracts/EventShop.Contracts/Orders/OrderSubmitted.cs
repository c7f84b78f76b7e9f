namespace EventShop.Contracts.Orders;

/// <summary>An order was accepted and stored; starts the placement saga. OrderId is the saga CorrelationId.</summary>
public sealed record OrderSubmitted(Guid OrderId, string CustomerId, string MerchantId, decimal Total, DateTimeOffset SubmittedAt);
