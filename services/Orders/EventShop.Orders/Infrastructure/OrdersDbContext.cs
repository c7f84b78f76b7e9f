using EventShop.Messaging;
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

    /// <summary>The order, tracked for a change in this unit of work.</summary>
    public Task<Order?> FindOrderAsync(Guid orderId, CancellationToken cancellationToken) => FindOrderQuery(this, orderId, cancellationToken);

    /// <summary>The order as committed, read only (status reads and long-polls).</summary>
    public Task<Order?> ReadOrderAsync(Guid orderId, CancellationToken cancellationToken) => ReadOrderQuery(this, orderId, cancellationToken);

    // Compiled once: every message and status read runs these, and a LINQ query otherwise pays for parameter extraction,
    // hashing the expression tree and a cache lookup on each call (docs/benchmark.md).
    static readonly Func<OrdersDbContext, Guid, CancellationToken, Task<Order?>> FindOrderQuery =
        EF.CompileAsyncQuery((OrdersDbContext db, Guid orderId, CancellationToken _) => db.Orders.SingleOrDefault(x => x.OrderId == orderId));

    static readonly Func<OrdersDbContext, Guid, CancellationToken, Task<Order?>> ReadOrderQuery =
        EF.CompileAsyncQuery((OrdersDbContext db, Guid orderId, CancellationToken _) => db.Orders.AsNoTracking().SingleOrDefault(x => x.OrderId == orderId));
}
