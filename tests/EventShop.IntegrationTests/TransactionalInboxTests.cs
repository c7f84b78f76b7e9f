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
        // Counted when the broker is answered for each delivery: no fixed wait that the relay's delete window can outlast.
        var received = new ReceivedMessages(messageId);
        using var _ = host.Bus.ConnectReceiveObserver(received);
        for (var i = 0; i < 2; i++)
            await host.Bus.Publish(new WriteProbeRow(rowId, 5), context => context.MessageId = messageId);
        await Eventually.TrueAsync(async () => await host.ScalarAsync<int>(
            $"SELECT count(*)::int AS \"Value\" FROM messaging.inbox_messages WHERE \"MessageId\" = '{messageId}'") == 1, "inbox row missing");
        await host.Bus.Publish(new WriteProbeRow(rowId, 5), context => context.MessageId = messageId);

        await Eventually.TrueAsync(() => received.Count == 3, "the three deliveries were not all handled");
        await Eventually.TrueAsync(() => !host.Deliveries.Received.IsEmpty, "ProbeRowWritten never arrived");
        await Eventually.TrueAsync(async () => await host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.outbox_messages") == 0,
            "the published ProbeRowWritten's row was not deleted");

        await using var db = host.NewDbContext();
        Assert.Equal(5, (await db.Rows.SingleAsync(x => x.Id == rowId)).Value);
        Assert.Single(host.Deliveries.Received);
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
            Options.Create(new InboxOptions { Retention = TimeSpan.FromDays(7) }), new SkewedClock(TimeSpan.FromDays(30)),
            NullLogger<InboxCleanup<ProbeDbContext>>.Instance);
        var deleted = await cleanup.DeleteExpiredAsync(CancellationToken.None);

        Assert.Equal(1, deleted);
        await using var check = host.NewDbContext();
        Assert.Equal(["Recent"], await check.Set<InboxMessage>().Where(x => x.Consumer == "cleanup-test").Select(x => x.MessageType).ToListAsync());
    }
}

/// <summary>Counts deliveries of one message id that the receive pipeline has finished with (acknowledged or faulted).</summary>
sealed class ReceivedMessages(Guid messageId) : IReceiveObserver
{
    int _count;

    public int Count => Volatile.Read(ref _count);

    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context) => Counted(context);

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class =>
        Task.CompletedTask;

    public Task ReceiveFault(ReceiveContext context, Exception exception) => Counted(context);

    Task Counted(ReceiveContext context)
    {
        if (context.GetMessageId() == messageId)
            Interlocked.Increment(ref _count);
        return Task.CompletedTask;
    }
}
