using EventShop.Messaging.Inbox;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EventShop.IntegrationTests;

public sealed class TransactionalInboxTests : IClassFixture<IsolatedInfrastructure>
{
    readonly IsolatedInfrastructure _infrastructure;

    public TransactionalInboxTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    Task<MessagingTestHost> StartHostAsync() =>
        MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString, bus =>
        {
            bus.AddConsumer<WriteProbeRowConsumer>();
            bus.AddConsumer<FailAfterWritingConsumer>();
            bus.AddConsumer<ProbeRowWrittenConsumer>();
        });

    [Fact]
    public async Task When_the_same_message_is_delivered_twice_Should_change_the_database_and_publish_once()
    {
        await using var host = await StartHostAsync();
        var rowId = NewId.NextGuid();
        var messageId = NewId.NextGuid();

        // What a relay does after crashing between the broker's confirm and deleting the row: the same MessageId again,
        // once at the same time as the first delivery and once after it was committed.
        for (var i = 0; i < 2; i++)
            await host.Bus.Publish(new WriteProbeRow(rowId, 5), context => context.MessageId = messageId);
        await Eventually.TrueAsync(async () => await host.ScalarAsync<int>(
            $"SELECT count(*)::int AS \"Value\" FROM messaging.inbox_messages WHERE \"MessageId\" = '{messageId}'") == 1, "inbox row missing");
        await host.Bus.Publish(new WriteProbeRow(rowId, 5), context => context.MessageId = messageId);

        await Eventually.TrueAsync(() => !host.Deliveries.Received.IsEmpty, "ProbeRowWritten never arrived");
        await Task.Delay(1000);

        await using var db = host.NewDbContext();
        Assert.Equal(5, (await db.Rows.SingleAsync(x => x.Id == rowId)).Value);
        Assert.Single(host.Deliveries.Received);
        Assert.Equal(0, await host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.outbox_messages"));
        // The duplicate is acknowledged as handled, not parked in a _skipped queue for an operator to wonder about.
        Assert.True(await _infrastructure.QueueDepthAsync("write-probe-row_skipped") <= 0, "the duplicate was moved to write-probe-row_skipped");
    }

    [Fact]
    public async Task When_a_consumer_keeps_failing_Should_move_the_message_to_the_error_queue_and_leave_nothing_behind()
    {
        await using var host = await StartHostAsync();
        var rowId = NewId.NextGuid();

        await host.Bus.Publish(new FailAfterWriting(rowId));

        await Eventually.TrueAsync(async () => await _infrastructure.QueueDepthAsync("fail-after-writing_error") == 1,
            "the poison message did not reach fail-after-writing_error", seconds: 60);
        await using var db = host.NewDbContext();
        Assert.False(await db.Rows.AnyAsync(x => x.Id == rowId));
        Assert.Equal(0, await host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.outbox_messages"));
        Assert.Equal(0, await host.ScalarAsync<int>(
            "SELECT count(*)::int AS \"Value\" FROM messaging.inbox_messages WHERE \"Consumer\" = 'fail-after-writing'"));
        Assert.Empty(host.Deliveries.Received);
    }

    [Fact]
    public async Task When_inbox_entries_outlive_the_retention_Should_delete_only_those()
    {
        await using var host = await StartHostAsync();
        var now = DateTimeOffset.UtcNow;
        await using (var db = host.NewDbContext())
        {
            db.Set<InboxMessage>().AddRange(
                new InboxMessage { Consumer = "cleanup-test", MessageId = NewId.NextGuid(), MessageType = "Old", ProcessedAt = now.AddDays(-8) },
                new InboxMessage { Consumer = "cleanup-test", MessageId = NewId.NextGuid(), MessageType = "Recent", ProcessedAt = now.AddDays(-1) });
            await db.SaveChangesAsync();
        }

        var cleanup = new InboxCleanup<ProbeDbContext>(host.Services.GetRequiredService<IServiceScopeFactory>(),
            Options.Create(new InboxOptions { Retention = TimeSpan.FromDays(7) }), TimeProvider.System, NullLogger<InboxCleanup<ProbeDbContext>>.Instance);
        var deleted = await cleanup.DeleteExpiredAsync(CancellationToken.None);

        Assert.Equal(1, deleted);
        await using var check = host.NewDbContext();
        Assert.Equal(["Recent"], await check.Set<InboxMessage>().Where(x => x.Consumer == "cleanup-test").Select(x => x.MessageType).ToListAsync());
    }
}
