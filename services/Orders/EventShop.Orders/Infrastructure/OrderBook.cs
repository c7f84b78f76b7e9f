using EventShop.Messaging;
using EventShop.Messaging.Storage;
using EventShop.Orders.Domain;

namespace EventShop.Orders.Infrastructure;

/// <summary>
/// Orders as the submit, the status reads and the outcome consumers see them, through the <see cref="UnitOfWork"/>: one
/// row read with a plain SELECT (the items are never needed there), written back with the unit of work's other writes.
/// </summary>
public sealed class OrderBook(UnitOfWork unitOfWork)
{
    /// <summary>The order as committed, without its items, not locked: status reads and long-polls.</summary>
    public Task<Order?> ReadAsync(Guid orderId, CancellationToken cancellationToken) =>
        unitOfWork.ReadAsync<Order>(orderId, cancellationToken);

    /// <summary>The order, without its items, locked until the message's transaction ends: the consumers that end it.</summary>
    public Task<Order?> LockAsync(Guid orderId, CancellationToken cancellationToken) =>
        unitOfWork.LockAsync<Order>(orderId, cancellationToken);

    /// <summary>
    /// Writes a new order and its items with the unit of work's other writes (its OrderSubmitted). The items go in one
    /// INSERT of unnested arrays, however many there are.
    /// </summary>
    public void Place(Order order)
    {
        unitOfWork.Insert(order);
        unitOfWork.Write(order, Sql.Command("""
            INSERT INTO orders.order_items ("OrderId", "Sku", "Quantity", "UnitPrice")
            SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::numeric[])
            """, order.OrderId, order.Items.Select(x => x.Sku).ToArray(), order.Items.Select(x => x.Quantity).ToArray(),
            order.Items.Select(x => x.UnitPrice).ToArray()), expectedRows: order.Items.Count);
    }

    /// <summary>Writes the status of an order read with <see cref="LockAsync"/>.</summary>
    public void SaveStatus(Order order) => unitOfWork.Update(order);
}
