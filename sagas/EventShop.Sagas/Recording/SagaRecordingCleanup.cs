using EventShop.Sagas.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EventShop.Sagas.Recording;

/// <summary>
/// Deletes recorded saga messages older than the retention, in bounded batches. A pass that finds nothing logs nothing;
/// the statement itself is the only work it does.
/// </summary>
public sealed class SagaRecordingCleanup(IServiceScopeFactory scopeFactory, IOptions<SagaRecordingOptions> options, TimeProvider clock,
    ILogger<SagaRecordingCleanup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CleanupInterval, clock);
        do
        {
            try
            {
                var deleted = await DeleteExpiredAsync(stoppingToken);
                if (deleted > 0)
                    logger.LogInformation("Saga recording cleanup removed {Count} messages older than {Days} days", deleted, options.Value.RetentionDays);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Saga recording cleanup failed; trying again at the next interval");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Deletes what is older than the retention on the database's clock (ADR 0008); returns how many rows.</summary>
    public async Task<int> DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        var retention = TimeSpan.FromDays(options.Value.RetentionDays);
        var batch = Math.Max(1, options.Value.CleanupBatchSize);
        var total = 0;
        int deleted;
        do
        {
            await using var scope = scopeFactory.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<SagasDbContext>();
            deleted = await db.Database.ExecuteSqlAsync($"""
                DELETE FROM sagas.order_saga_messages
                WHERE "Id" IN (SELECT "Id" FROM sagas.order_saga_messages WHERE "At" < now() - {retention} ORDER BY "Id" LIMIT {batch})
                """, cancellationToken);
            total += deleted;
        }
        while (deleted == batch);
        return total;
    }
}
