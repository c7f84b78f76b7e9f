using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace EventShop.Accounts.Infrastructure;

/// <summary>Lets 'dotnet ef migrations add' build the model without starting the service (no broker, no signing key needed).</summary>
sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AccountsDbContext>
{
    public AccountsDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AccountsDbContext>()
            .UseNpgsql("Host=localhost;Database=eventshop_accounts", npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", "public"))
            .Options);
}
