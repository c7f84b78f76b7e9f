using EventShop.Orders.Domain;

namespace EventShop.Orders.Apis;

/// <summary>An order as <c>GET /api/orders/{id}</c>, its long-poll and its event stream show it.</summary>
public sealed record OrderResponse(
    Guid OrderId, string CustomerId, string MerchantId, decimal Total, string Status, long? PointsAccrued, string? FailureReason,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? FailureCode)
{
    public static OrderResponse From(Order order) => new(order.OrderId, order.CustomerId, order.MerchantId, order.Total,
        order.Status.ToString(), order.PointsAccrued, order.FailureReason, order.CreatedAt, order.UpdatedAt, order.FailureCode);
}
