using EventShop.Messaging;
using EventShop.Messaging.Storage;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;

namespace EventShop.IntegrationTests;

/// <summary>What a handler queues in its unit of work commits with the message, in the write mode the handler chose.</summary>
public sealed class UnitOfWorkTests : IClassFixture<IsolatedInfrastructure>
{
    readonly IsolatedInfrastructure _infrastructure;

    public UnitOfWorkTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    Task<MessagingTestHost> StartHostAsync() =>
        MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString, bus =>
        {
            bus.AddConsumer<InsertProbeRowConsumer>();
            bus.AddConsumer<AddAndBumpProbeRowConsumer>();
            bus.AddConsumer<AddThroughEfUnannouncedConsumer>();
            bus.AddConsumer<ProbeRowWrittenConsumer>();
        });

    [Fact]
    public async Task When_a_consumer_writes_without_EF_Should_commit_its_row_and_deliver_its_event()
    {
        await using var host = await StartHostAsync();
        var rowId = NewId.NextGuid();

        await host.Bus.Publish(new InsertProbeRow(rowId, 7));

        await Eventually.TrueAsync(() => !host.Deliveries.Received.IsEmpty, "ProbeRowWritten never arrived");
        await using var db = host.NewDbContext();
        Assert.Equal(7, (await db.Rows.SingleAsync(x => x.Id == rowId)).Value);
        // Delivered from memory once committed and confirmed, then deleted.
        await Eventually.TrueAsync(async () => await host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.outbox_messages") == 0,
            "the delivered outbox row was not deleted", seconds: 30);
    }

    [Fact]
    public async Task When_a_consumer_uses_EF_and_a_statement_Should_run_the_statement_after_EF_saved()
    {
        await using var host = await StartHostAsync();
        var rowId = NewId.NextGuid();

        await host.Bus.Publish(new AddAndBumpProbeRow(rowId, BumpRowId: rowId));

        await Eventually.TrueAsync(async () =>
        {
            await using var db = host.NewDbContext();
            return await db.Rows.AsNoTracking().SingleOrDefaultAsync(x => x.Id == rowId) is { Value: 11 };
        }, "the row was not inserted by EF and then bumped by the statement");
    }

    [Fact]
    public async Task When_a_statement_changes_no_row_Should_fail_the_message_and_store_nothing()
    {
        await using var host = await StartHostAsync();
        var rowId = NewId.NextGuid();

        await host.Bus.Publish(new AddAndBumpProbeRow(rowId, BumpRowId: NewId.NextGuid()));

        await Eventually.TrueAsync(async () => await _infrastructure.QueueDepthAsync("add-and-bump-probe-row_error") == 1,
            "the message did not reach add-and-bump-probe-row_error", seconds: 60);
        await using var db = host.NewDbContext();
        Assert.False(await db.Rows.AnyAsync(x => x.Id == rowId));
    }

    [Fact]
    public async Task When_a_consumer_changes_entities_through_EF_without_choosing_the_change_tracker_Should_fail_and_store_nothing()
    {
        await using var host = await StartHostAsync();
        var rowId = NewId.NextGuid();

        await host.Bus.Publish(new AddThroughEfUnannounced(rowId));

        await Eventually.TrueAsync(async () => await _infrastructure.QueueDepthAsync("add-through-ef-unannounced_error") == 1,
            "the message did not reach add-through-ef-unannounced_error", seconds: 60);
        await using var db = host.NewDbContext();
        Assert.False(await db.Rows.AnyAsync(x => x.Id == rowId));
        Assert.Empty(host.Deliveries.Received);
    }

    [Fact]
    public async Task When_code_outside_a_consumer_commits_Should_store_its_row_and_deliver_its_event_from_memory()
    {
        // The poll is an hour away: only the hand-over of the committed outbox rows can deliver within the test.
        await using var host = await MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString,
            bus => bus.AddConsumer<ProbeRowWrittenConsumer>(), new Dictionary<string, string?> { ["Messaging:Outbox:PollInterval"] = "01:00:00" });
        await Task.Delay(500); // let the relay's first poll (at start) pass
        await using var scope = host.NewScope();
        var unitOfWork = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        var rowId = NewId.NextGuid();
        var committed = false;

        unitOfWork.Insert(new ProbeRow { Id = rowId, Value = 5 });
        var messageId = unitOfWork.Publish(new ProbeRowWritten(rowId), correlationId: rowId);
        unitOfWork.OnCommitted(() => committed = true);
        await unitOfWork.CommitAsync(CancellationToken.None);

        Assert.True(committed);
        await using var db = host.NewDbContext();
        Assert.Equal(5, (await db.Rows.AsNoTracking().SingleAsync(x => x.Id == rowId)).Value);
        await Eventually.TrueAsync(() => host.Deliveries.Received.Any(x => x.MessageId == messageId),
            "ProbeRowWritten was not delivered from memory");
    }

    [Fact]
    public async Task When_a_statement_outside_a_consumer_changes_no_row_Should_store_and_publish_nothing()
    {
        await using var host = await StartHostAsync();
        await using var scope = host.NewScope();
        var unitOfWork = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        await using var db = host.NewDbContext();
        var rowId = NewId.NextGuid();
        var outboxBefore = await host.ScalarAsync<long>(OutboxSequence);
        var committed = false;

        var row = new ProbeRow { Id = rowId, Value = 1 };
        unitOfWork.Insert(row);
        unitOfWork.Write(row, Sql.Command("""UPDATE probe."Rows" SET "Value" = 2 WHERE "Id" = $1""", NewId.NextGuid()));
        unitOfWork.Publish(new ProbeRowWritten(rowId), correlationId: rowId);
        unitOfWork.OnCommitted(() => committed = true);

        await Assert.ThrowsAsync<InvalidOperationException>(() => unitOfWork.CommitAsync(CancellationToken.None));

        Assert.False(committed);
        Assert.False(unitOfWork.InTransaction);
        Assert.False(await db.Rows.AnyAsync(x => x.Id == rowId));
        // The outbox id sequence moved (the insert ran), but the row was rolled back with the rest.
        Assert.True(await host.ScalarAsync<long>(OutboxSequence) > outboxBefore);
        Assert.Equal(0, await host.ScalarAsync<long>($"""SELECT count(*) AS "Value" FROM messaging.outbox_messages WHERE "CorrelationId" = '{rowId}'"""));
    }

    const string OutboxSequence =
        """SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('messaging.outbox_messages', 'Id')::regclass), 0) AS "Value" """;
}
