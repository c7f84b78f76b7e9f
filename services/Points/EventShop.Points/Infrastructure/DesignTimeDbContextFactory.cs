using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace EventShop.Points.Infrastructure;

/// <summary>Lets 'dotnet ef migrations add' build the model without starting the service (no broker, no signing key needed).</summary>
sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<PointsDbContext>
{
    public PointsDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PointsDbContext>()
            .UseNpgsql("Host=localhost;Database=eventshop_points", npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", "public"))
            .Options);
}
