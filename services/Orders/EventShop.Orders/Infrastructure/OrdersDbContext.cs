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
}
