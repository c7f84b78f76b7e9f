using EventShop.Sagas.Infrastructure;
using EventShop.Sagas.OrderPlacement;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventShop.IntegrationTests;

/// <summary>"Stuck" on the saga's real database: the trigger stamps the time a saga entered its state on the database's clock.</summary>
public sealed class StuckSagasTests : IClassFixture<IsolatedInfrastructure>, IAsyncLifetime
{
    readonly IsolatedInfrastructure _infrastructure;
    MigratedServiceDatabase<SagasDbContext> _database = null!;

    public StuckSagasTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    public async Task InitializeAsync()
    {
        _database = new MigratedServiceDatabase<SagasDbContext>(_infrastructure.ConnectionString);
        await _database.MigrateAsync();
    }

    public async Task DisposeAsync() => await _database.ReleaseAsync();

    async Task<Guid> InsertAsync(string state, DateTimeOffset hostEnteredAt, DateTimeOffset? hostCreatedAt = null)
    {
        var saga = new OrderState
        {
            CorrelationId = NewId.NextGuid(), CurrentState = state, CustomerId = "alice", MerchantId = "shop", Total = 10m,
            StepToken = NewId.NextGuid(), StepTimeout = state == "CompensationFailed" ? null : TimeSpan.FromSeconds(30), StepAttempts = 1,
            CreatedAt = hostCreatedAt ?? DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow, StateEnteredAt = hostEnteredAt,
            CompensationFailure = state == "CompensationFailed" ? "Customer refund got no reply after 10 attempts" : null,
        };
        await using var scope = _database.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SagasDbContext>();
        db.OrderStates.Add(saga);
        await db.SaveChangesAsync();
        return saga.CorrelationId;
    }

    async Task<IReadOnlyList<StuckSaga>> FindAsync(TimeSpan? budget, StuckOptions? options = null)
    {
        await using var scope = _database.CreateAsyncScope();
        var stuck = new StuckSagas(scope.ServiceProvider.GetRequiredService<SagasDbContext>(),
            Options.Create(new OrderPlacementOptions { StepTimeout = TimeSpan.FromSeconds(30) }), Options.Create(options ?? new StuckOptions()));
        return await stuck.FindAsync(budget, 1000, CancellationToken.None);
    }

    [Fact]
    public async Task The_time_in_state_Should_be_the_databases_and_move_only_when_the_state_changes()
    {
        // A saga host whose clock runs an hour behind must not make a fresh saga look stuck.
        var orderId = await InsertAsync("Accruing", DateTimeOffset.UtcNow.AddHours(-1));
        Assert.DoesNotContain(await FindAsync(TimeSpan.FromSeconds(30)), x => x.OrderId == orderId);

        await Task.Delay(TimeSpan.FromMilliseconds(1200));
        var stuck = Assert.Single(await FindAsync(TimeSpan.FromSeconds(1)), x => x.OrderId == orderId);
        Assert.Equal("Accruing", stuck.State);
        Assert.True(stuck.InState >= TimeSpan.FromSeconds(1), $"in state for {stuck.InState}");
        Assert.StartsWith("In Accruing for ", stuck.Reason);
        Assert.Contains("over its budget of 1 s", stuck.Reason);

        await using (var scope = _database.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SagasDbContext>();
            await db.OrderStates.Where(x => x.CorrelationId == orderId)
                .ExecuteUpdateAsync(set => set.SetProperty(x => x.CurrentState, "ReversingPoints"));
        }
        Assert.DoesNotContain(await FindAsync(TimeSpan.FromSeconds(1)), x => x.OrderId == orderId);
    }

    /// <summary>The invariant check cuts sagas by their creation time (ADR 0013): a host's skewed clock must not move it.</summary>
    [Fact]
    public async Task The_creation_time_Should_be_the_databases_whatever_the_hosts_clock_says()
    {
        var ahead = await InsertAsync("Debiting", DateTimeOffset.UtcNow, hostCreatedAt: DateTimeOffset.UtcNow.AddSeconds(30));
        var behind = await InsertAsync("Debiting", DateTimeOffset.UtcNow, hostCreatedAt: DateTimeOffset.UtcNow.AddSeconds(-30));

        await using var scope = _database.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SagasDbContext>();
        var ages = await db.Database.SqlQuery<double>($"""
            SELECT extract(epoch FROM now() - "CreatedAt")::float8 AS "Value" FROM sagas.order_states WHERE "CorrelationId" IN ({ahead}, {behind})
            """).ToListAsync();
        Assert.Equal(2, ages.Count);
        Assert.All(ages, age => Assert.InRange(age, 0, 5));
    }

    [Fact]
    public async Task Each_state_Should_have_its_own_budget_and_CompensationFailed_none()
    {
        var accruing = await InsertAsync("Accruing", DateTimeOffset.UtcNow);
        var failed = await InsertAsync("CompensationFailed", DateTimeOffset.UtcNow);
        await Task.Delay(TimeSpan.FromMilliseconds(1200));

        var options = new StuckOptions { Budgets = { ["Accruing"] = TimeSpan.FromSeconds(1) } };
        var stuck = await FindAsync(null, options);
        Assert.Contains(stuck, x => x.OrderId == accruing && x.Budget == TimeSpan.FromSeconds(1));
        Assert.Contains(stuck, x => x.OrderId == failed && x.Reason.Contains("waits for an operator"));

        var byDefault = await FindAsync(null);
        Assert.DoesNotContain(byDefault, x => x.OrderId == accruing);
        Assert.Contains(byDefault, x => x.OrderId == failed);
    }
}
