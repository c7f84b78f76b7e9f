using EventShop.Messaging;
using EventShop.Messaging.Storage;
using EventShop.Orders.Domain;
using EventShop.Orders.Infrastructure.Configurations;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Orders.Infrastructure;

public sealed class OrdersDbContext(DbContextOptions<OrdersDbContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema("orders");
        modelBuilder.ApplyConfiguration(new OrderConfiguration());
        modelBuilder.AddTransactionalMessaging();
    }

    /// <summary>
    /// The order as committed, without its items (no reader needs them): status reads and long-polls, and with
    /// <paramref name="forUpdate"/>, inside a message's transaction, the consumers that end it. A plain SELECT of one row,
    /// not EF's query pipeline, which also joined the items in (docs/benchmark.md, round seven). Nothing is tracked: a
    /// change is written with <see cref="SaveStatus"/>.
    /// </summary>
    public Task<Order?> ReadOrderAsync(Guid orderId, CancellationToken cancellationToken, bool forUpdate = false) =>
        this.ReadRowAsync<Order>(orderId, forUpdate, cancellationToken);

    /// <summary>
    /// Writes a new order, its items and whatever the caller queued with it (its OrderSubmitted) in the transaction's one
    /// batch. The items go in one INSERT of unnested arrays, however many there are.
    /// </summary>
    public static void Place(MessagingTransaction transaction, Order order)
    {
        transaction.Insert(order);
        transaction.Write(order, TransactionBatch.Command("""
            INSERT INTO orders.order_items ("OrderId", "Sku", "Quantity", "UnitPrice")
            SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::numeric[])
            """, order.OrderId, order.Items.Select(x => x.Sku).ToArray(), order.Items.Select(x => x.Quantity).ToArray(),
            order.Items.Select(x => x.UnitPrice).ToArray()), expectedRows: order.Items.Count);
    }

    /// <summary>Writes the status of an order read with <see cref="ReadOrderAsync"/> (locked) in the message's batch.</summary>
    public static void SaveStatus(MessagingTransaction transaction, Order order) =>
        transaction.Write(order, TableMap.For(transaction.DbContext, typeof(Order)).Update(order));
}
