using EventShop.Messaging;
using EventShop.Sagas.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EventShop.Sagas.OrderPlacement;

/// <summary>
/// Durable step timeouts without a broker scheduler: deadlines live on the saga row, so they survive restarts. Due sagas are
/// claimed with SKIP LOCKED (several hosts can sweep), and the timeout event goes out through the outbox in the same
/// transaction that moves the deadline on by <see cref="OrderPlacementOptions.TimeoutRepeat"/>. The deadline is not cleared:
/// only the saga consuming the timeout ends it (a new step token, a new deadline, or none once ended), so a timeout that
/// ended in an error queue is simply raised again. Every time here is the database's (ADR 0008): a saga host's clock that
/// runs ahead or behind cannot time out a healthy step.
/// </summary>
public sealed class StepTimeoutSweeper(IServiceScopeFactory scopeFactory, IOptions<OrderPlacementOptions> options, TimeProvider clock,
    ILogger<StepTimeoutSweeper> logger) : BackgroundService
{
    static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                while (await SweepAsync(stoppingToken) == BatchSize)
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

    /// <summary>Raises the timeout of every saga whose deadline has passed on the database's clock; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SagasDbContext>();
        var unitOfWork = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        // The claim re-arms the deadlines itself; the unit of work adds the timeouts to the outbox in the same transaction.
        await unitOfWork.BeginAsync(cancellationToken);

        var repeat = options.Value.TimeoutRepeat;
        var due = await db.Database.SqlQuery<DueStep>($"""
                UPDATE sagas.order_states AS saga SET "StepDeadline" = now() + {repeat}
                FROM (SELECT "CorrelationId" FROM sagas.order_states
                      WHERE "StepDeadline" <= now()
                      ORDER BY "StepDeadline"
                      LIMIT {BatchSize}
                      FOR UPDATE SKIP LOCKED) AS claimed
                WHERE saga."CorrelationId" = claimed."CorrelationId"
                RETURNING saga."CorrelationId" AS "OrderId", saga."StepToken", saga."CurrentState", saga."StepAttempts"
                """)
            .ToListAsync(cancellationToken);

        foreach (var step in due)
        {
            logger.LogWarning("Order {OrderId} timed out in {State} (attempt {Attempt})", step.OrderId, step.CurrentState, step.StepAttempts);
            unitOfWork.Publish(new OrderStepTimedOut(step.OrderId, step.StepToken, step.CurrentState), step.OrderId);
        }

        await unitOfWork.CommitAsync(cancellationToken);
        return due.Count;
    }

    sealed class DueStep
    {
        public Guid OrderId { get; init; }
        public Guid StepToken { get; init; }
        public string CurrentState { get; init; } = "";
        public int StepAttempts { get; init; }
    }
}
