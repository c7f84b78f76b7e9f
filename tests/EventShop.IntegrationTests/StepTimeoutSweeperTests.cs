using System.Text.Json;
using EventShop.Messaging.Outbox;
using EventShop.Sagas.Infrastructure;
using EventShop.Sagas.OrderPlacement;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EventShop.IntegrationTests;

/// <summary>The step-timeout sweeper on the saga's real database and migrations (the deadline trigger included).</summary>
public sealed class StepTimeoutSweeperTests : IClassFixture<IsolatedInfrastructure>, IAsyncLifetime
{
    static readonly TimeSpan TimeoutRepeat = TimeSpan.FromSeconds(1);

    readonly IsolatedInfrastructure _infrastructure;
    MigratedServiceDatabase<SagasDbContext> _database = null!;

    public StepTimeoutSweeperTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    public async Task InitializeAsync()
    {
        _database = new MigratedServiceDatabase<SagasDbContext>(_infrastructure.ConnectionString);
        await _database.MigrateAsync();
    }

    public async Task DisposeAsync() => await _database.ReleaseAsync();

    StepTimeoutSweeper Sweeper(TimeSpan clockSkew) =>
        new(_database.ScopeFactory,
            Options.Create(new OrderPlacementOptions { TimeoutRepeat = TimeoutRepeat }), new SkewedClock(clockSkew),
            NullLogger<StepTimeoutSweeper>.Instance);

    /// <summary>A saga row as a saga host writes it, with a deadline of its own clock that the database must ignore.</summary>
    async Task<OrderState> StartStepAsync(TimeSpan stepTimeout, DateTimeOffset hostDeadline)
    {
        var saga = new OrderState
        {
            CorrelationId = NewId.NextGuid(), CurrentState = "Debiting", CustomerId = "alice", MerchantId = "shop", Total = 10m,
            StepToken = NewId.NextGuid(), StepTimeout = stepTimeout, StepDeadline = hostDeadline, StepAttempts = 1,
            CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        };
        await using var scope = _database.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SagasDbContext>();
        db.OrderStates.Add(saga);
        await db.SaveChangesAsync();
        return saga;
    }

    async Task<T> QueryAsync<T>(Func<SagasDbContext, Task<T>> query)
    {
        await using var scope = _database.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<SagasDbContext>());
    }

    Task<DateTimeOffset?> DeadlineAsync(Guid orderId) =>
        QueryAsync(db => db.OrderStates.AsNoTracking().Where(x => x.CorrelationId == orderId).Select(x => x.StepDeadline).SingleAsync());

    Task<DateTimeOffset> DatabaseNowAsync() =>
        QueryAsync(db => db.Database.SqlQueryRaw<DateTimeOffset>("SELECT now() AS \"Value\"").SingleAsync());

    async Task<List<OrderStepTimedOut>> TimeoutsRaisedAsync(Guid orderId)
    {
        var bodies = await QueryAsync(db => db.Set<OutboxMessage>().AsNoTracking().OrderBy(x => x.Id).Select(x => x.Body).ToListAsync());
        return [.. bodies.Select(body => JsonSerializer.Deserialize<OrderStepTimedOut>(body, JsonSerializerOptions.Web)!)
            .Where(timeout => timeout.OrderId == orderId)];
    }

    [Fact]
    public async Task Should_compute_and_compare_deadlines_on_the_database_clock_whatever_the_hosts_clocks_say()
    {
        // The saga host's clock is an hour behind (its deadline is long past), the sweeper's two hours ahead: on either
        // process's clock the step has timed out, on the database's it has an hour to go.
        var saga = await StartStepAsync(TimeSpan.FromHours(1), hostDeadline: DateTimeOffset.UtcNow.AddHours(-1));

        var deadline = await DeadlineAsync(saga.CorrelationId);
        var now = await DatabaseNowAsync();
        Assert.NotNull(deadline);
        Assert.InRange(deadline!.Value, now.AddMinutes(59), now.AddMinutes(61));

        Assert.Equal(0, await Sweeper(clockSkew: TimeSpan.FromHours(2)).SweepAsync(CancellationToken.None));
        Assert.Empty(await TimeoutsRaisedAsync(saga.CorrelationId));
    }

    [Fact]
    public async Task Should_raise_the_timeout_again_until_the_saga_consumes_it()
    {
        var saga = await StartStepAsync(TimeSpan.Zero, hostDeadline: DateTimeOffset.UtcNow.AddHours(1));
        var sweeper = Sweeper(clockSkew: TimeSpan.Zero);

        await SweepUntilRaisedAsync(sweeper, saga.CorrelationId, count: 1);
        var first = Assert.Single(await TimeoutsRaisedAsync(saga.CorrelationId));
        Assert.Equal(saga.StepToken, first.StepToken);
        Assert.NotNull(await DeadlineAsync(saga.CorrelationId)); // re-armed, not cleared

        // Nobody consumed it (it sits in an error queue, say): after TimeoutRepeat it is raised again, same token.
        await SweepUntilRaisedAsync(sweeper, saga.CorrelationId, count: 2);
        Assert.All(await TimeoutsRaisedAsync(saga.CorrelationId), timeout => Assert.Equal(saga.StepToken, timeout.StepToken));

        // The saga consumes it: a new step (new token) gets a new deadline from the database, and the old one is gone.
        await QueryAsync(db => db.OrderStates.Where(x => x.CorrelationId == saga.CorrelationId).ExecuteUpdateAsync(set => set
            .SetProperty(x => x.StepToken, NewId.NextGuid())
            .SetProperty(x => x.StepTimeout, TimeSpan.FromHours(1))));
        Assert.True(await DeadlineAsync(saga.CorrelationId) > await DatabaseNowAsync() + TimeSpan.FromMinutes(59));
        await Task.Delay(TimeoutRepeat + TimeSpan.FromMilliseconds(200));
        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));

        // The saga ends: no timeout, no deadline.
        await QueryAsync(db => db.OrderStates.Where(x => x.CorrelationId == saga.CorrelationId).ExecuteUpdateAsync(set => set
            .SetProperty(x => x.StepTimeout, (TimeSpan?)null)));
        Assert.Null(await DeadlineAsync(saga.CorrelationId));
        Assert.Equal(2, (await TimeoutsRaisedAsync(saga.CorrelationId)).Count);
    }

    async Task SweepUntilRaisedAsync(StepTimeoutSweeper sweeper, Guid orderId, int count)
    {
        var giveUp = DateTime.UtcNow + TimeoutRepeat * 5;
        while ((await TimeoutsRaisedAsync(orderId)).Count < count && DateTime.UtcNow < giveUp)
        {
            await sweeper.SweepAsync(CancellationToken.None);
            await Task.Delay(100);
        }

        Assert.Equal(count, (await TimeoutsRaisedAsync(orderId)).Count);
    }
}
