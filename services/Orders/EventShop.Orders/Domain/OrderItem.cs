namespace EventShop.Orders.Domain;

public sealed class OrderItem
{
    public long Id { get; init; }
    public required string Sku { get; init; }
    public int Quantity { get; init; }
    public decimal UnitPrice { get; init; }
}
