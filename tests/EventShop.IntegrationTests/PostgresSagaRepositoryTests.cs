using EventShop.Messaging;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace EventShop.IntegrationTests;

public sealed class PostgresSagaRepositoryTests : IClassFixture<IsolatedInfrastructure>
{
    readonly IsolatedInfrastructure _infrastructure;

    public PostgresSagaRepositoryTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    [Fact]
    public async Task When_events_for_one_saga_arrive_concurrently_Should_apply_every_one()
    {
        await using var host = await StartCounterHostAsync();
        var counterId = NewId.NextGuid();
        const int increments = 40;
        var messageIds = Enumerable.Range(0, increments).Select(_ => NewId.NextGuid()).ToArray();

        await Task.WhenAll(messageIds.Select(messageId => host.Bus.Publish(new Increment(counterId), context => context.MessageId = messageId)));

        await Eventually.TrueAsync(async () => await CountAsync(host, counterId) == increments,
            $"the counter saga did not reach {increments}: an update was lost", seconds: 60);
        Assert.Equal(increments, await InboxRowsAsync(host, messageIds));
    }

    [Fact]
    public async Task When_the_same_event_is_delivered_twice_Should_apply_it_once()
    {
        await using var host = await StartCounterHostAsync();
        var counterId = NewId.NextGuid();
        var messageId = NewId.NextGuid();

        // Both at once: the second waits on the first one's uncommitted inbox key, then fails on it and is skipped.
        await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => host.Bus.Publish(new Increment(counterId), context => context.MessageId = messageId)));
        await host.Bus.Publish(new Increment(counterId));

        await Eventually.TrueAsync(async () => await CountAsync(host, counterId) == 2, "the counter did not reach 2");
        await Task.Delay(1000);
        Assert.Equal(2, await CountAsync(host, counterId));
    }

    [Fact]
    public async Task When_an_event_changes_nothing_Should_leave_the_saga_row_as_it_was()
    {
        await using var host = await StartCounterHostAsync();
        var counterId = NewId.NextGuid();
        await host.Bus.Publish(new Increment(counterId));
        await Eventually.TrueAsync(async () => await CountAsync(host, counterId) == 1, "the counter was not created");
        var created = await RowVersionAsync(host, counterId);

        var peek = NewId.NextGuid();
        await host.Bus.Publish(new Peek(counterId), context => context.MessageId = peek);
        await Eventually.TrueAsync(async () => await InboxRowsAsync(host, [peek]) == 1, "Peek was not handled");
        Assert.Equal(created, await RowVersionAsync(host, counterId));

        // The check above can fail: a change does write a new row version.
        await host.Bus.Publish(new Increment(counterId));
        await Eventually.TrueAsync(async () => await CountAsync(host, counterId) == 2, "the second increment was not applied");
        Assert.NotEqual(created, await RowVersionAsync(host, counterId));
    }

    Task<MessagingTestHost> StartCounterHostAsync() =>
        MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString,
            bus => bus.AddSagaStateMachine<CounterStateMachine, CounterState>(typeof(CounterStateDefinition)).PostgresRepository());

    static async Task<int?> CountAsync(MessagingTestHost host, Guid counterId)
    {
        await using var db = host.NewDbContext();
        return (await db.Counters.AsNoTracking().SingleOrDefaultAsync(x => x.CorrelationId == counterId))?.Count;
    }

    /// <summary>PostgreSQL's xmin: the transaction that wrote this version of the row. It changes with every UPDATE, even one that changes no value.</summary>
    static Task<string> RowVersionAsync(MessagingTestHost host, Guid counterId) =>
        host.ScalarAsync<string>($"SELECT xmin::text AS \"Value\" FROM probe.counter_states WHERE \"CorrelationId\" = '{counterId}'");

    static Task<int> InboxRowsAsync(MessagingTestHost host, Guid[] messageIds) =>
        host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.inbox_messages " +
            $"WHERE \"Consumer\" = 'counter-state' AND \"MessageId\" IN ({string.Join(", ", messageIds.Select(id => $"'{id}'"))})");
}
