namespace EventShop.Orders.Apis;

/// <summary>The body of <c>POST /api/orders</c>; every field nullable so that a missing one is reported by name.</summary>
public sealed record SubmitOrderRequest(string? CustomerId, string? MerchantId, List<SubmitOrderItem>? Items);
