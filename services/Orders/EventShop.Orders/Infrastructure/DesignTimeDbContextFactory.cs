using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace EventShop.Orders.Infrastructure;

/// <summary>Lets 'dotnet ef migrations add' build the model without starting the service (no broker, no signing key needed).</summary>
sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<OrdersDbContext>
{
    public OrdersDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<OrdersDbContext>()
            .UseNpgsql("Host=localhost;Database=eventshop_orders", npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", "public"))
            .Options);
}
