using System.Net;
using EventShop.Testing;
using Npgsql;

namespace EventShop.EndToEndTests;

/// <summary>
/// infra/local/retire-legacy-identities.sh (ADR 0020) against a broker node and a PostgreSQL server of the test's own: the
/// shared identities of earlier versions are created there first (a fresh machine never has them), then retired.
/// </summary>
public sealed class LegacyIdentityRetirementTests
{
    [Fact]
    public async Task After_retirement_eventshop_eventshop_Should_no_longer_log_in_to_the_broker_or_the_database()
    {
        await using var broker = new PrivateRabbitMqNode { WithManagement = true };
        await using var database = new PrivatePostgresNode(superuser: "postgres");
        await Task.WhenAll(broker.StartAsync(), database.StartAsync());
        await ComposeBroker.WaitForManagementAsync(broker.ManagementPort);
        await CreateLegacyIdentitiesAsync(broker, database);
        Assert.Equal(HttpStatusCode.OK, (await BrokerClient.WhoAmIAsync(broker.ManagementPort, "eventshop", "eventshop")).Status);
        await (await BrokerClient.ConnectAsync("localhost", broker.Port, "/", "eventshop", "eventshop")).DisposeAsync();
        await (await database.OpenAsAsync("eventshop")).DisposeAsync();

        var (exitCode, log) = await RetireAsync(broker, database);

        Assert.True(exitCode == 0, log);
        Assert.Equal(3, log.Split('\n').Count(line => line.StartsWith("[infra] retired ", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await BrokerClient.WhoAmIAsync(broker.ManagementPort, "eventshop", "eventshop")).Status);
        var amqp = await Record.ExceptionAsync(async () =>
            await (await BrokerClient.ConnectAsync("localhost", broker.Port, "/", "eventshop", "eventshop")).DisposeAsync());
        Assert.True(BrokerClient.IsRefusedLogin(amqp), $"eventshop was not refused: {amqp}");
        var users = await broker.CtlAsync("list_users", "--quiet");
        Assert.DoesNotContain(users.Split('\n'), line => line.Split('\t')[0] is "eventshop" or "eventshop-services");

        var login = await Record.ExceptionAsync(async () => await (await database.OpenAsAsync("eventshop")).DisposeAsync());
        Assert.Equal(PostgresErrorCodes.InvalidAuthorizationSpecification, Assert.IsType<PostgresException>(login).SqlState);
        await using (var admin = await database.OpenAsAsync("postgres"))
        {
            // No password left, and the databases it owns stay its own (it cannot be dropped while it owns them).
            Assert.Equal(true, await admin.ScalarAsync("SELECT rolpassword IS NULL AND NOT rolcanlogin FROM pg_authid WHERE rolname = 'eventshop'"));
            Assert.Equal("eventshop", await admin.ScalarAsync("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'eventshop_orders'"));
        }

        // Run again (ensure-infra.sh runs it every time): nothing left to retire, nothing said.
        var again = await RetireAsync(broker, database);
        Assert.True(again.ExitCode == 0, again.Log);
        Assert.DoesNotContain("retired", again.Log, StringComparison.Ordinal);
    }

    static async Task CreateLegacyIdentitiesAsync(PrivateRabbitMqNode broker, PrivatePostgresNode database)
    {
        await broker.CtlAsync("add_user", "eventshop", "eventshop");
        await broker.CtlAsync("set_user_tags", "eventshop", "administrator");
        await broker.CtlAsync("set_permissions", "-p", "/", "eventshop", ".*", ".*", ".*");
        await broker.CtlAsync("add_user", "eventshop-services", "eventshop-services");
        await using var admin = await database.OpenAsAsync("postgres");
        await admin.ScalarAsync("CREATE ROLE eventshop LOGIN CREATEDB PASSWORD 'eventshop'");
        await admin.ScalarAsync("CREATE DATABASE eventshop_orders OWNER eventshop");
    }

    static Task<(int ExitCode, string Log)> RetireAsync(PrivateRabbitMqNode broker, PrivatePostgresNode database) =>
        RepositoryScript.RunAsync("infra/local/retire-legacy-identities.sh", new Dictionary<string, string>
        {
            ["EVENTSHOP_RABBITMQ_NODE"] = broker.NodeName,
            ["EVENTSHOP_POSTGRES_HOST"] = database.Endpoint.Host,
            ["EVENTSHOP_POSTGRES_PORT"] = database.Port.ToString(),
            ["EVENTSHOP_POSTGRES_USER"] = "postgres",
        });
}
