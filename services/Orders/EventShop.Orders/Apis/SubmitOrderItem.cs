namespace EventShop.Orders.Apis;

public sealed record SubmitOrderItem(string? Sku, int? Quantity, decimal? UnitPrice);
