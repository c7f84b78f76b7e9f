using EventShop.Testing;
using Npgsql;

namespace EventShop.EndToEndTests;

/// <summary>
/// Each service's database identity (ADR 0020, docs/security.md): the service runs as a runtime role that may read and write
/// its own database's rows, and nothing else: no other service's database, no DDL. The owner role ran the migrations.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DatabaseRoleTests(EventShopSystem system)
{
    static readonly string[] Databases = ["Orders", "Accounts", "Points", "Sagas"];

    public static TheoryData<string> Services => [.. Databases];

    [Theory]
    [MemberData(nameof(Services))]
    public async Task A_services_runtime_role_Should_not_connect_to_another_services_database(string service)
    {
        foreach (var other in Databases.Where(d => d != service))
        {
            await using var connection = new NpgsqlConnection(system.RuntimeConnectionString(service, other));

            var refused = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());

            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task A_services_runtime_role_Should_use_its_rows_but_run_no_DDL(string service)
    {
        await using var connection = new NpgsqlConnection(system.RuntimeConnectionString(service));
        await connection.OpenAsync();

        // Rows: yes (every service keeps an outbox).
        await using (var read = new NpgsqlCommand("SELECT count(*) FROM messaging.outbox_messages", connection))
            Assert.IsType<long>(await read.ExecuteScalarAsync());

        // Schema: no, neither a new table nor a change to its own, nor a new schema.
        foreach (var ddl in new[]
                 {
                     "CREATE TABLE public.intruder (id int)",
                     "CREATE TABLE messaging.intruder (id int)",
                     "ALTER TABLE messaging.outbox_messages ADD COLUMN intruder int",
                     "DROP TABLE messaging.outbox_messages",
                     "CREATE SCHEMA intruder",
                 })
        {
            await using var command = new NpgsqlCommand(ddl, connection);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.True(refused.SqlState is PostgresErrorCodes.InsufficientPrivilege, $"{ddl}: {refused.SqlState} {refused.MessageText}");
        }
    }
}
