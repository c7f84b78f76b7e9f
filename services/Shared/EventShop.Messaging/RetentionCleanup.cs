using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventShop.Messaging;

/// <summary>
/// Deletes what has outlived its retention, every interval, in bounded batches so that writers of the same table are never
/// blocked for long. The cutoff is the database's now() (ADR 0008). A pass that finds nothing logs nothing; a failed pass
/// is logged and tried again at the next interval.
/// </summary>
public abstract class RetentionCleanup(TimeSpan interval, TimeProvider clock, ILogger logger) : BackgroundService
{
    /// <summary>What a pass removes, for its log line, e.g. "inbox entries older than 7.00:00:00".</summary>
    protected abstract string Removed { get; }

    protected abstract int BatchSize { get; }

    /// <summary>Deletes at most <see cref="BatchSize"/> expired rows; returns how many it deleted.</summary>
    protected abstract Task<int> DeleteBatchAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, clock);
        do
        {
            try
            {
                var deleted = await DeleteExpiredAsync(stoppingToken);
                if (deleted > 0)
                    logger.LogInformation("{Cleanup} removed {Count} {Removed}", GetType().Name, deleted, Removed);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "{Cleanup} failed; trying again at the next interval", GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Deletes everything expired, batch after batch; returns how many rows in all.</summary>
    public async Task<int> DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        int deleted;
        do
        {
            deleted = await DeleteBatchAsync(cancellationToken);
            total += deleted;
        }
        while (deleted >= BatchSize);
        return total;
    }
}
