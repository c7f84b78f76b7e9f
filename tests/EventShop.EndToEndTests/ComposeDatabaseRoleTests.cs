using EventShop.Testing;
using Npgsql;

namespace EventShop.EndToEndTests;

/// <summary>
/// What `docker compose up` gives the database, without Docker: `infra/eventshop compose-env` run into a directory of the
/// test's own, then the container's init script (infra/docker/postgres-init.sh, with the privileges file it shares with
/// ensure-infra.sh) run against a PostgreSQL of the test's own with the passwords .env holds (ADR 0020).
/// </summary>
public sealed class ComposeDatabaseRoleTests
{
    static readonly string[] Services = ["orders", "accounts", "points", "sagas"];

    [Fact]
    public async Task The_init_script_Should_give_each_service_an_owner_and_a_runtime_role_on_its_database_only()
    {
        using var directory = new TemporaryDirectory();
        var (envExit, envLog) = await RepositoryScript.RunAsync("infra/eventshop",
            new Dictionary<string, string> { ["EVENTSHOP_COMPOSE_DIR"] = directory.Path }, "compose-env");
        Assert.True(envExit == 0, envLog);
        var environment = File.ReadAllLines(System.IO.Path.Combine(directory.Path, ".env"))
            .Select(line => line.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        await using var database = new PrivatePostgresNode(superuser: "postgres");
        await database.StartAsync();

        var initEnvironment = environment.Where(pair => pair.Key.StartsWith("EVENTSHOP_DB_", StringComparison.Ordinal))
            .Concat(new Dictionary<string, string>
            {
                ["PGHOST"] = database.Endpoint.Host,
                ["PGPORT"] = database.Port.ToString(),
                ["POSTGRES_USER"] = "postgres",
                ["EVENTSHOP_SERVICE_DATABASE_SQL"] = System.IO.Path.Combine(RepositoryLayout.Root, "infra", "local", "service-database.sh"),
            })
            .ToDictionary();
        var (exitCode, log) = await RepositoryScript.RunAsync("infra/docker/postgres-init.sh", initEnvironment);

        Assert.True(exitCode == 0, log);
        Assert.Equal(8, Services.Sum(s => environment.Keys.Count(k => k.StartsWith($"EVENTSHOP_DB_{s.ToUpperInvariant()}_", StringComparison.Ordinal))));
        Assert.DoesNotContain("EVENTSHOP_DB_USER", environment.Keys);
        foreach (var service in Services)
        {
            await using (var admin = await database.OpenAsAsync("postgres", "postgres"))
                Assert.Equal($"eventshop_{service}_owner", await admin.ScalarAsync($"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'eventshop_{service}'"));

            // The owner migrates: a schema and a table of its own. The runtime role then uses its rows and changes no schema.
            await using (var owner = await database.OpenAsAsync($"eventshop_{service}_owner", $"eventshop_{service}"))
                await owner.ScalarAsync("CREATE SCHEMA migrated; CREATE TABLE migrated.rows (id int)");
            await using (var runtime = await database.OpenAsAsync($"eventshop_{service}", $"eventshop_{service}"))
            {
                await runtime.ScalarAsync("INSERT INTO migrated.rows VALUES (1)");
                Assert.Equal(1L, await runtime.ScalarAsync("SELECT count(*) FROM migrated.rows"));
                foreach (var ddl in new[] { "CREATE TABLE public.intruder (id int)", "CREATE TABLE migrated.intruder (id int)", "DROP TABLE migrated.rows" })
                {
                    var refused = await Assert.ThrowsAsync<PostgresException>(() => runtime.ScalarAsync(ddl));
                    Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
                }
            }

            foreach (var other in Services.Where(s => s != service))
            {
                foreach (var role in new[] { $"eventshop_{service}", $"eventshop_{service}_owner" })
                {
                    var refused = await Assert.ThrowsAsync<PostgresException>(() => database.OpenAsAsync(role, $"eventshop_{other}"));
                    Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
                }
            }
        }
    }

    sealed class TemporaryDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("eventshop-compose-db-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
