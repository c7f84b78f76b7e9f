using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventShop.Messaging.Inbox;

public sealed class InboxOptions
{
    public const string Section = "Messaging:Inbox";

    /// <summary>
    /// How long a processed message id is remembered. Must exceed the longest time a duplicate can still arrive
    /// (broker redelivery, an outbox row re-sent after a crash, an operator moving a message back from an error queue).
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Keeps the inbox from growing forever: deletes entries older than the retention, in small batches.</summary>
public sealed class InboxCleanup<TDbContext>(IServiceScopeFactory scopeFactory, IOptions<InboxOptions> options, TimeProvider clock,
    ILogger<InboxCleanup<TDbContext>> logger) : BackgroundService
    where TDbContext : DbContext
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
                    logger.LogInformation("Inbox cleanup removed {Count} entries older than {Retention}", deleted, options.Value.Retention);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Inbox cleanup failed; trying again at the next interval");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task<int> DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        var retention = options.Value.Retention;
        var total = 0;
        int deleted;
        do
        {
            await using var scope = scopeFactory.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
            // Batches keep each delete short, so consumers writing new inbox rows are never blocked for long. The cutoff is
            // the database's now(), not this process's clock (ADR 0008).
            deleted = await db.Database.ExecuteSqlAsync($"""
                DELETE FROM messaging.inbox_messages
                WHERE ctid IN (SELECT ctid FROM messaging.inbox_messages WHERE "ProcessedAt" < now() - {retention} LIMIT 5000)
                """, cancellationToken);
            total += deleted;
        }
        while (deleted == 5000);
        return total;
    }
}
