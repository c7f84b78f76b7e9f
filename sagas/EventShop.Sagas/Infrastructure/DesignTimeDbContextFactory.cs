using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace EventShop.Sagas.Infrastructure;

/// <summary>Lets 'dotnet ef migrations add' build the model without starting the service (no broker, no signing key needed).</summary>
sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<SagasDbContext>
{
    public SagasDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SagasDbContext>()
            .UseNpgsql("Host=localhost;Database=eventshop_sagas", npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", "public"))
            .Options);
}
