using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace EventShop.IntegrationTests;

/// <summary>What a handler queues in the message's transaction commits with the message, whether or not the handler used EF.</summary>
public sealed class MessagingTransactionTests : IClassFixture<IsolatedInfrastructure>
{
    readonly IsolatedInfrastructure _infrastructure;

    public MessagingTransactionTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    Task<MessagingTestHost> StartHostAsync() =>
        MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString, bus =>
        {
            bus.AddConsumer<InsertProbeRowConsumer>();
            bus.AddConsumer<AddAndBumpProbeRowConsumer>();
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
}
