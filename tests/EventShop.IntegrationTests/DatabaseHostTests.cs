using EventShop.Messaging.Hosting;
using EventShop.Orders.Infrastructure;
using EventShop.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace EventShop.IntegrationTests;

/// <summary>
/// The start scripts point every service at PostgreSQL's Unix socket with one setting, Database:Host, instead of
/// rewriting four connection strings (docs/benchmark.md). The rest of the connection string must survive it.
/// </summary>
public sealed class DatabaseHostTests
{
    const string Configured = "Host=localhost;Port=5432;Database=eventshop_orders;Username=eventshop;Password=secret;Maximum Pool Size=50";

    [Fact]
    public void Database_host_replaces_only_the_host_of_the_connection_string()
    {
        var connection = ConnectionOfOrdersDbContext(databaseHost: "/var/run/postgresql");

        Assert.Equal("/var/run/postgresql", connection.Host);
        Assert.Equal(5432, connection.Port);
        Assert.Equal("eventshop_orders", connection.Database);
        Assert.Equal("eventshop", connection.Username);
        Assert.Equal(50, connection.MaxPoolSize);
        Assert.True(connection.NoResetOnClose);
    }

    [Fact]
    public void Without_database_host_the_configured_host_is_used()
    {
        var connection = ConnectionOfOrdersDbContext(databaseHost: null);

        Assert.Equal("localhost", connection.Host);
        Assert.Equal("eventshop_orders", connection.Database);
    }

    static NpgsqlConnectionStringBuilder ConnectionOfOrdersDbContext(string? databaseHost)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Orders"] = Configured,
            [DatabaseExtensions.DatabaseHostKey] = databaseHost,
        });
        builder.AddServiceDatabase<OrdersDbContext>("Orders");

        using var host = builder.Build();
        using var scope = host.Services.CreateScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<OrdersDbContext>();
        return new NpgsqlConnectionStringBuilder(dbContext.Database.GetConnectionString());
    }
}
