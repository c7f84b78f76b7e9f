using System.Diagnostics;
using System.Text.Json;
using EventShop.Contracts.Orders;
using EventShop.Messaging.Outbox;
using EventShop.Orders.Domain;
using EventShop.Orders.Infrastructure;
using EventShop.Orders.Reconciliation;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EventShop.IntegrationTests;

/// <summary>Orders' reconciler on the real Orders database and migrations: a Pending order past its budget is asked about again.</summary>
public sealed class PendingOrderReconcilerTests : IClassFixture<IsolatedInfrastructure>, IAsyncLifetime
{
    // Long enough that "not asked again within the budget" holds on a loaded CI machine: with 1 s, a CI run took more than
    // a second between the reconcile that asked and the next one, and the order was (rightly) asked about again.
    static readonly TimeSpan Budget = TimeSpan.FromSeconds(3);

    readonly IsolatedInfrastructure _infrastructure;
    MigratedServiceDatabase<OrdersDbContext> _database = null!;

    public PendingOrderReconcilerTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    public async Task InitializeAsync()
    {
        _database = new MigratedServiceDatabase<OrdersDbContext>(_infrastructure.ConnectionString);
        await _database.MigrateAsync();
    }

    public async Task DisposeAsync() => await _database.ReleaseAsync();

    PendingOrderReconciler Reconciler(TimeSpan clockSkew) =>
        new(_database.ScopeFactory,
            Options.Create(new PendingOrderReconcilerOptions { PendingBudget = Budget }), new SkewedClock(clockSkew),
            NullLogger<PendingOrderReconciler>.Instance);

    async Task<Order> PlaceAsync(bool complete)
    {
        var order = Order.Place(NewId.NextGuid(), "alice", "shop", [new OrderItem { Sku = "A-1", Quantity = 2, UnitPrice = 12.50m }],
            "alice", Guid.NewGuid().ToString(), "hash", DateTimeOffset.UtcNow.AddHours(-1));
        if (complete)
            order.Complete(25, DateTimeOffset.UtcNow);
        await using var scope = _database.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrdersDbContext>();
        db.Orders.Add(order);
        await db.SaveChangesAsync();
        return order;
    }

    async Task<List<OrderSubmitted>> AskedAsync()
    {
        await using var scope = _database.CreateAsyncScope();
        var rows = await scope.ServiceProvider.GetRequiredService<OrdersDbContext>().Set<OutboxMessage>().AsNoTracking()
            .OrderBy(x => x.Id).ToListAsync();
        return [.. rows.Select(row => (OrderSubmitted)OutboxSerializer.Read(row).Message)];
    }

    [Fact]
    public async Task Should_ask_the_saga_again_about_an_order_pending_past_its_budget_once_per_budget()
    {
        // Created "an hour ago" by a clock that runs behind, and reconciled by one an hour ahead: only the database's clock counts.
        var pending = await PlaceAsync(complete: false);
        var completed = await PlaceAsync(complete: true);
        var reconciler = Reconciler(clockSkew: TimeSpan.FromHours(1));

        Assert.Equal(0, await reconciler.ReconcileAsync(CancellationToken.None)); // first seen Pending: stamped, not asked yet
        Assert.Empty(await AskedAsync());

        var giveUp = DateTime.UtcNow + Budget * 5;
        var sinceLastReconcile = Stopwatch.StartNew();
        while ((await AskedAsync()).Count == 0 && DateTime.UtcNow < giveUp)
        {
            sinceLastReconcile.Restart();
            await reconciler.ReconcileAsync(CancellationToken.None);
            await Task.Delay(100);
        }

        var asked = Assert.Single(await AskedAsync());
        Assert.Equal(new OrderSubmitted(pending.OrderId, "alice", "shop", 25.00m, pending.CreatedAt), asked);
        Assert.DoesNotContain(await AskedAsync(), x => x.OrderId == completed.OrderId);

        // Asked again only a budget later, and not at all once the order has ended.
        Assert.True(sinceLastReconcile.Elapsed < Budget,
            $"the machine took {sinceLastReconcile.Elapsed.TotalSeconds:F1} s between two reconciles, more than the budget this step relies on");
        Assert.Equal(0, await reconciler.ReconcileAsync(CancellationToken.None));
        await using (var scope = _database.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<OrdersDbContext>().Orders.Where(x => x.OrderId == pending.OrderId)
                .ExecuteUpdateAsync(set => set.SetProperty(x => x.Status, OrderStatus.Completed));
        }
        await Task.Delay(Budget + TimeSpan.FromMilliseconds(300));
        Assert.Equal(0, await reconciler.ReconcileAsync(CancellationToken.None));
        Assert.Single(await AskedAsync());
    }
}
