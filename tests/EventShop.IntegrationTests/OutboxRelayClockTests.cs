using System.Diagnostics;
using EventShop.Testing;
using Xunit.Abstractions;

namespace EventShop.IntegrationTests;

/// <summary>
/// Issue 22, finding 3: the relay's poll takes the rows older than PollGrace on the database's clock, the clock that stamped
/// their CreatedAt (ADR 0008). The test process and the shared PostgreSQL read one clock, so here the relay works on a
/// PostgreSQL of the test's own whose clock is an hour ahead or behind (libfaketime). Compared on the process's clock, a row
/// committed by another process would then wait an hour for the poll, or be taken before its grace.
/// </summary>
public sealed class OutboxRelayClockTests(IsolatedInfrastructure infrastructure, ITestOutputHelper output) : IClassFixture<IsolatedInfrastructure>
{
    const string DatabaseName = "relayclock";

    [Fact]
    public async Task When_the_database_clock_is_ahead_Should_poll_a_row_committed_elsewhere_once_its_grace_has_passed()
    {
        await using var database = await StartDatabaseAsync(TimeSpan.FromHours(1));
        await using var host = await StartHostAsync(database, pollGrace: TimeSpan.FromSeconds(2));

        var row = await host.CommitElsewhereAsync(new Probe(1));

        await Eventually.TrueAsync(() => host.Deliveries.Received.Any(x => x.MessageId == row.MessageId),
            "the row committed elsewhere was never polled: its CreatedAt, stamped an hour ahead by the database, was not compared with the database's clock",
            seconds: 15);
    }

    [Fact]
    public async Task When_the_database_clock_is_behind_Should_not_poll_a_row_committed_elsewhere_before_its_grace_has_passed()
    {
        // Longer than the relay's default: taken by its first poll after the commit, a row compared on the process's clock was
        // seen up to a second after the commit on a loaded machine, and this test must stay red for that.
        var pollGrace = TimeSpan.FromSeconds(5);
        await using var database = await StartDatabaseAsync(TimeSpan.FromHours(-1));
        await using var host = await StartHostAsync(database, pollGrace);

        var sinceBeforeCommit = Stopwatch.StartNew();
        var row = await host.CommitElsewhereAsync(new Probe(1));
        await Eventually.TrueAsync(() => host.Deliveries.Received.Any(x => x.MessageId == row.MessageId),
            "the row committed elsewhere was never polled", seconds: 15);

        // A lower bound only, which a slow machine cannot break: load delays a poll, it never hastens one. The database's
        // wall clock and the Stopwatch's monotonic one run at the same pace; the margin covers an NTP slew between them.
        var polledAfter = sinceBeforeCommit.Elapsed;
        output.WriteLine($"polled {polledAfter.TotalSeconds:F2} s after the commit (grace {pollGrace.TotalSeconds} s)");
        Assert.True(polledAfter >= pollGrace - TimeSpan.FromMilliseconds(50),
            $"polled {polledAfter.TotalSeconds:F2} s after its commit, before its grace of {pollGrace.TotalSeconds} s on the database's clock " +
            "(its CreatedAt, an hour in the past on the process's clock, was compared with that clock)");
    }

    /// <summary>A private PostgreSQL whose clock is <paramref name="clockOffset"/> from the test's, with an empty database on it.</summary>
    async Task<PrivatePostgresNode> StartDatabaseAsync(TimeSpan clockOffset)
    {
        var node = new PrivatePostgresNode { ClockOffset = clockOffset };
        await node.StartAsync();
        try
        {
            await using (var connection = await node.OpenAsAsync(node.Endpoint.Username))
            {
                var skew = (DateTime)(await connection.ScalarAsync("SELECT now()"))! - DateTime.UtcNow;
                output.WriteLine($"database clock {skew.TotalMinutes:F1} min from the test's (asked for {clockOffset.TotalMinutes} min)");
                Assert.InRange(skew.TotalMinutes, clockOffset.TotalMinutes - 1, clockOffset.TotalMinutes + 1);
            }

            await TestInfrastructure.CreateDatabaseAsync(node.Endpoint, DatabaseName);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A relay on the private database (the host creates the messaging schema) and on this class's vhost, polling often. The
    /// fixture's database on the shared server goes unused: its clock is the test's.
    /// </summary>
    Task<MessagingTestHost> StartHostAsync(PrivatePostgresNode database, TimeSpan pollGrace) =>
        MessagingTestHost.StartAsync(infrastructure.Broker, infrastructure.Name, database.Endpoint.ConnectionString(DatabaseName, maxPoolSize: 10),
            bus => bus.AddConsumer<ProbeConsumer>(),
            new Dictionary<string, string?>
            {
                ["Messaging:Outbox:PollInterval"] = "00:00:00.100",
                ["Messaging:Outbox:PollGrace"] = pollGrace.ToString(),
            });
}
