using EventShop.Orders.Domain;

namespace EventShop.Orders.Apis;

public sealed record SubmitOrderRequest(string? CustomerId, string? MerchantId, List<SubmitOrderItem>? Items);

public sealed record SubmitOrderItem(string? Sku, int? Quantity, decimal? UnitPrice);

public sealed record OrderAccepted(Guid OrderId, string Status);

public sealed record OrderResponse(
    Guid OrderId, string CustomerId, string MerchantId, decimal Total, string Status, long? PointsAccrued, string? FailureReason,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static OrderResponse From(Order order) => new(order.OrderId, order.CustomerId, order.MerchantId, order.Total,
        order.Status.ToString(), order.PointsAccrued, order.FailureReason, order.CreatedAt, order.UpdatedAt);
}
