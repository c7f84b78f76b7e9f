using EventShop.Messaging;
using EventShop.Sagas.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Sagas.OrderPlacement;

/// <summary>
/// Durable step timeouts without a broker scheduler: deadlines live on the saga row, so they survive restarts. Due sagas are
/// claimed with SKIP LOCKED (several hosts can sweep), and the timeout event goes out through the outbox in the same
/// transaction that clears the deadline, so it is raised exactly once per step.
/// </summary>
public sealed class StepTimeoutSweeper(IServiceScopeFactory scopeFactory, TimeProvider clock, ILogger<StepTimeoutSweeper> logger)
    : BackgroundService
{
    static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                while (await SweepAsync(stoppingToken) > 0)
                {
                    // keep going while there is a backlog
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Step timeout sweep failed; retrying on the next tick");
            }
        }
    }

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SagasDbContext>();
        var unitOfWork = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        // The due sagas are loaded, changed and saved as EF entities.
        unitOfWork.UseChangeTracker();
        await unitOfWork.BeginAsync(cancellationToken);

        var now = clock.GetUtcNow();
        var due = await db.OrderStates
            .FromSql($"""
                SELECT * FROM sagas.order_states
                WHERE "StepDeadline" <= {now}
                ORDER BY "StepDeadline"
                LIMIT 100
                FOR UPDATE SKIP LOCKED
                """)
            .ToListAsync(cancellationToken);

        foreach (var saga in due)
        {
            logger.LogWarning("Order {OrderId} timed out in {State}", saga.CorrelationId, saga.CurrentState);
            unitOfWork.Publish(new OrderStepTimedOut(saga.CorrelationId, saga.StepToken, saga.CurrentState), saga.CorrelationId);
            saga.StepDeadline = null;
        }

        await unitOfWork.CommitAsync(cancellationToken);
        return due.Count;
    }
}
