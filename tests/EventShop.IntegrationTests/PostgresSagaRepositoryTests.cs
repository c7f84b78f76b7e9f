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
        await using var host = await MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString,
            bus => bus.AddSagaStateMachine<CounterStateMachine, CounterState>(typeof(CounterStateDefinition)).PostgresRepository());
        var counterId = NewId.NextGuid();
        const int increments = 40;

        await Task.WhenAll(Enumerable.Range(0, increments).Select(_ => host.Bus.Publish(new Increment(counterId))));

        await Eventually.TrueAsync(async () =>
        {
            await using var db = host.NewDbContext();
            return await db.Counters.AsNoTracking().SingleOrDefaultAsync(x => x.CorrelationId == counterId) is { Count: increments };
        }, $"the counter saga did not reach {increments}: an update was lost", seconds: 60);

        Assert.Equal(increments, await host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.inbox_messages WHERE \"Consumer\" = 'counter-state'"));
    }
}
