using EventShop.Messaging;
using EventShop.Messaging.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventShop.IntegrationTests;

/// <summary>
/// A service's database with its real migrations (triggers included) and the service's own messaging registration, but no
/// host: no relay or other background service runs, so a test drives one background job's passes itself.
/// </summary>
public sealed class MigratedServiceDatabase<TDbContext>
    where TDbContext : DbContext
{
    readonly ServiceProvider _services;

    public MigratedServiceDatabase(string connectionString) =>
        _services = new ServiceCollection()
            .AddDbContext<TDbContext>(options => options
                .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", "public"))
                .LeaveFailedCommandsToTheirCallers())
            .AddTransactionalMessaging<TDbContext>(new ConfigurationBuilder().Build())
            .BuildServiceProvider();

    public IServiceScopeFactory ScopeFactory => _services.GetRequiredService<IServiceScopeFactory>();

    public async Task MigrateAsync()
    {
        await using var scope = _services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<TDbContext>().Database.MigrateAsync();
    }

    public AsyncServiceScope CreateAsyncScope() => _services.CreateAsyncScope();

    /// <summary>Releases the services' pooled connections; the test class calls it from its own DisposeAsync.</summary>
    public ValueTask ReleaseAsync() => _services.DisposeAsync();
}
