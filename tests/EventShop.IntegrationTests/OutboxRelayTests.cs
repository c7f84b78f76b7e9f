using EventShop.Messaging;
using EventShop.Messaging.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EventShop.IntegrationTests;

public sealed class OutboxRelayTests : IClassFixture<IsolatedInfrastructure>
{
    readonly IsolatedInfrastructure _infrastructure;

    public OutboxRelayTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    Task<MessagingTestHost> StartHostAsync(string vhostSuffix = "") =>
        MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString,
            bus => bus.AddConsumer<ProbeConsumer>());

    [Fact]
    public async Task When_a_row_commits_after_a_later_row_Should_still_deliver_it()
    {
        await using var host = await StartHostAsync();
        await using var slow = host.NewDbContext();

        // The slow transaction takes the lower id but commits last: a relay keeping a high-water mark would skip it forever.
        await using var slowTransaction = await slow.Database.BeginTransactionAsync();
        var slowMessage = MessagingTestHost.OutboxRow(new Probe(1));
        slow.Add(slowMessage);
        await slow.SaveChangesAsync();
        var fastMessage = (await host.CommitElsewhereAsync(new Probe(2))).MessageId;

        await Eventually.TrueAsync(() => host.Deliveries.Received.Any(x => x.MessageId == fastMessage), "the committed row was not delivered");
        Assert.DoesNotContain(host.Deliveries.Received, x => x.MessageId == slowMessage.MessageId);

        await slowTransaction.CommitAsync();

        await Eventually.TrueAsync(() => host.Deliveries.Received.Any(x => x.MessageId == slowMessage.MessageId), "the late-committed row was skipped");
        await Eventually.TrueAsync(async () => await host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.outbox_messages") == 0,
            "delivered rows must be deleted");
        Assert.Single(host.Deliveries.Received, x => x.MessageId == slowMessage.MessageId);
        Assert.Single(host.Deliveries.Received, x => x.MessageId == fastMessage);
    }

    [Fact]
    public async Task When_a_consumer_commits_Should_publish_its_messages_from_memory_without_waiting_for_the_poll()
    {
        // The poll is an hour away: only the in-memory hand-over can deliver within the test.
        await using var host = await MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString,
            bus =>
            {
                bus.AddConsumer<WriteProbeRowConsumer>();
                bus.AddConsumer<ProbeRowWrittenConsumer>();
            },
            new Dictionary<string, string?> { ["Messaging:Outbox:PollInterval"] = "01:00:00" });
        await Task.Delay(500); // let the relay's first poll (at start) pass

        var rowIds = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var rowId in rowIds)
            await host.Bus.Publish(new WriteProbeRow(rowId, 1));

        await Eventually.TrueAsync(() => host.Deliveries.Received.Count >= rowIds.Length,
            $"only {host.Deliveries.Received.Count} of {rowIds.Length} ProbeRowWritten arrived: the committed rows were not handed to the relay");
        await Eventually.TrueAsync(async () => await host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.outbox_messages") == 0,
            "published rows must be deleted");
    }

    [Fact]
    public async Task When_code_outside_a_consumer_commits_Should_hand_its_rows_to_the_relay_without_waiting_for_the_poll()
    {
        // An HTTP handler or a timer commits its unit of work, which hands the rows over; the poll is an hour away.
        await using var host = await MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString,
            bus => bus.AddConsumer<ProbeRowWrittenConsumer>(),
            new Dictionary<string, string?> { ["Messaging:Outbox:PollInterval"] = "01:00:00" });
        await Task.Delay(500); // let the relay's first poll (at start) pass

        const int count = 20;
        for (var i = 0; i < count; i++)
        {
            await using var scope = host.NewScope();
            var unitOfWork = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
            unitOfWork.Publish(new ProbeRowWritten(Guid.NewGuid()));
            await unitOfWork.CommitAsync(CancellationToken.None);
        }

        await Eventually.TrueAsync(() => host.Deliveries.Received.Count >= count,
            $"only {host.Deliveries.Received.Count} of {count} ProbeRowWritten arrived: the committed rows were not handed to the relay");
        await Eventually.TrueAsync(async () => await host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.outbox_messages") == 0,
            "published rows must be deleted");
    }

    [Fact]
    public async Task When_a_committed_row_is_handed_over_late_Should_publish_it_once()
    {
        // Polls every 50 ms: without the grace, one of them takes the row in the gap between its commit and the hand-over
        // (a thread-pool queue away under load), and the hand-over then publishes it a second time.
        await using var host = await MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString,
            bus => bus.AddConsumer<ProbeRowWrittenConsumer>(),
            new Dictionary<string, string?>
            {
                ["Messaging:Outbox:PollInterval"] = "00:00:00.050",
                ["Messaging:Outbox:PollGrace"] = "00:00:02",
            });

        var row = await host.CommitElsewhereAsync(new ProbeRowWritten(Guid.NewGuid()));
        await Task.Delay(TimeSpan.FromSeconds(1)); // twenty polls while the row is committed but not handed over yet
        Assert.Empty(host.Deliveries.Received);

        host.Services.GetRequiredService<OutboxSignal>().Committed([row]);
        await Eventually.TrueAsync(() => host.Deliveries.Received.Any(x => x.MessageId == row.MessageId), "the handed-over row was not delivered");
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // past the grace: a poll would find the row if it were still in the table
        Assert.Single(host.Deliveries.Received);
        Assert.Equal(0, await host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.outbox_messages"));
    }

    [Fact]
    public async Task When_several_relays_run_at_once_Should_deliver_every_message_exactly_once()
    {
        await using var first = await StartHostAsync();
        await using var second = await StartHostAsync();
        const int count = 300;

        await using (var db = first.NewDbContext())
        {
            for (var i = 0; i < count; i++)
                db.Add(MessagingTestHost.OutboxRow(new Probe(i)));
            await db.SaveChangesAsync();
        }

        var received = () => first.Deliveries.Received.Concat(second.Deliveries.Received).ToList();
        await Eventually.TrueAsync(() => received().Count >= count, $"expected {count} deliveries");
        await Task.Delay(500);

        var all = received();
        Assert.Equal(count, all.Count);
        Assert.Equal(count, all.Select(x => x.MessageId).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, count), all.Select(x => x.Value).Order());
        Assert.Equal(0, await first.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.outbox_messages"));
    }
}

static class Eventually
{
    public static Task TrueAsync(Func<bool> condition, string because, int seconds = 30) =>
        TrueAsync(() => Task.FromResult(condition()), because, seconds);

    public static async Task TrueAsync(Func<Task<bool>> condition, string because, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, because);
            await Task.Delay(100);
        }
    }
}
