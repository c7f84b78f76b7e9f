using EventShop.Contracts.Orders;
using EventShop.Messaging;
using EventShop.Orders.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EventShop.Orders.Reconciliation;

/// <summary>
/// Orders owns "my order is Pending" (ADR 0008). An order whose OrderSubmitted ended in the saga's error queue has no saga;
/// one whose OrderCompleted/OrderCancelled ended in an error queue here stays Pending while its saga has ended. Neither has
/// a deadline anywhere else, so this service asks again: for every order Pending past <see cref="PendingOrderReconcilerOptions.PendingBudget"/>
/// it re-publishes OrderSubmitted through the outbox. The saga starts if it never did, announces its outcome again if it
/// has ended, and ignores the ask while in flight. Orders are claimed with SKIP LOCKED (replicas share the work, an order
/// being completed right now is skipped), and every time is the database's, so replicas' clocks do not matter.
/// </summary>
public sealed class PendingOrderReconciler(IServiceScopeFactory scopeFactory,
    IOptions<PendingOrderReconcilerOptions> options, TimeProvider clock, ILogger<PendingOrderReconciler> logger) : BackgroundService
{
    readonly PendingOrderReconcilerOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                while (await ReconcileAsync(stoppingToken) == _options.BatchSize)
                {
                    // keep going while there is a backlog
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Pending order reconciliation failed; retrying on the next tick");
            }
        }
    }

    /// <summary>
    /// One pass: stamps orders seen Pending for the first time with the database's now() (no ask yet: the order's own
    /// CreatedAt is another process's clock), and asks the saga again about those stamped more than the budget ago,
    /// re-stamping them. Returns how many were asked.
    /// </summary>
    public async Task<int> ReconcileAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrdersDbContext>();
        var unitOfWork = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        // The stamps are written by the claiming statements themselves; the unit of work adds the asks in the same transaction.
        await unitOfWork.BeginAsync(cancellationToken);

        // Most orders end within a second and are never stamped at all: only those still Pending at a pass are.
        await db.Database.ExecuteSqlAsync($"""
            UPDATE orders.orders SET "ReconciledAt" = now()
            WHERE "OrderId" IN (SELECT "OrderId" FROM orders.orders
                                WHERE "Status" = 'Pending' AND "ReconciledAt" IS NULL
                                LIMIT {_options.BatchSize}
                                FOR UPDATE SKIP LOCKED)
            """, cancellationToken);

        var due = await db.Database.SqlQuery<PendingOrder>($"""
                UPDATE orders.orders AS o SET "ReconciledAt" = now()
                FROM (SELECT "OrderId" FROM orders.orders
                      WHERE "Status" = 'Pending' AND "ReconciledAt" < now() - {_options.PendingBudget}
                      ORDER BY "ReconciledAt"
                      LIMIT {_options.BatchSize}
                      FOR UPDATE SKIP LOCKED) AS due
                WHERE o."OrderId" = due."OrderId"
                RETURNING o."OrderId", o."CustomerId", o."MerchantId", o."Total", o."CreatedAt"
                """)
            .ToListAsync(cancellationToken);

        foreach (var order in due)
        {
            logger.LogWarning("Order {OrderId} is still Pending past its budget; asking the saga again", order.OrderId);
            unitOfWork.Publish(new OrderSubmitted(order.OrderId, order.CustomerId, order.MerchantId, order.Total, order.CreatedAt),
                correlationId: order.OrderId);
        }

        await unitOfWork.CommitAsync(cancellationToken);
        return due.Count;
    }

    sealed class PendingOrder
    {
        public Guid OrderId { get; init; }
        public string CustomerId { get; init; } = "";
        public string MerchantId { get; init; } = "";
        public decimal Total { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
    }
}
