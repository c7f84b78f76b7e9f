using EventShop.Accounts.Infrastructure;
using EventShop.Orders.Infrastructure;
using EventShop.Points.Infrastructure;
using EventShop.Sagas.Infrastructure;
using EventShop.Testing;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EventShop.IntegrationTests;

/// <summary>
/// Issue 22, finding 3: the times that other processes compare with now() (the relays' poll grace, the inbox retention) are
/// stamped by the database, so a writer whose clock is skewed cannot make its rows look older or younger (ADR 0008).
/// </summary>
public sealed class DatabaseClockTests
{
    public static TheoryData<string> Services => ["orders", "accounts", "points", "sagas"];

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Outbox_and_inbox_times_are_stamped_by_the_database_in_every_service(string service)
    {
        var (_, database) = await TestInfrastructure.GetAsync();
        var name = $"clock{service}{Guid.NewGuid():N}"[..24];
        await TestInfrastructure.CreateDatabaseAsync(database, name);
        try
        {
            var connectionString = database.ConnectionString(name, maxPoolSize: 4);
            await MigrateAsync(service, connectionString);

            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            Assert.Equal("now()", await ColumnDefaultAsync(connection, "outbox_messages", "CreatedAt"));
            Assert.Equal("now()", await ColumnDefaultAsync(connection, "inbox_messages", "ProcessedAt"));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await TestInfrastructure.DropDatabaseAsync(database, name);
        }
    }

    static Task MigrateAsync(string service, string connectionString) => service switch
    {
        "orders" => MigrateAsync<OrdersDbContext>(connectionString),
        "accounts" => MigrateAsync<AccountsDbContext>(connectionString),
        "points" => MigrateAsync<PointsDbContext>(connectionString),
        "sagas" => MigrateAsync<SagasDbContext>(connectionString),
        _ => throw new ArgumentOutOfRangeException(nameof(service), service, null),
    };

    static async Task MigrateAsync<TDbContext>(string connectionString) where TDbContext : DbContext
    {
        var database = new MigratedServiceDatabase<TDbContext>(connectionString);
        try
        {
            await database.MigrateAsync();
        }
        finally
        {
            await database.ReleaseAsync();
        }
    }

    static async Task<string?> ColumnDefaultAsync(NpgsqlConnection connection, string table, string column)
    {
        await using var command = new NpgsqlCommand(
            "SELECT column_default FROM information_schema.columns WHERE table_schema = 'messaging' AND table_name = @table AND column_name = @column",
            connection);
        command.Parameters.AddWithValue("table", table);
        command.Parameters.AddWithValue("column", column);
        return await command.ExecuteScalarAsync() as string;
    }
}
