using EventShop.Messaging;
using EventShop.Sagas.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EventShop.Sagas.Recording;

/// <summary>Deletes recorded saga messages older than the retention (ADR 0015).</summary>
public sealed class SagaRecordingCleanup(IServiceScopeFactory scopeFactory, IOptions<SagaRecordingOptions> options, TimeProvider clock,
    ILogger<SagaRecordingCleanup> logger) : RetentionCleanup(options.Value.CleanupInterval, clock, logger)
{
    protected override string Removed => $"recorded saga messages older than {options.Value.RetentionDays} days";

    protected override int BatchSize => Math.Max(1, options.Value.CleanupBatchSize);

    protected override async Task<int> DeleteBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SagasDbContext>();
        var retention = TimeSpan.FromDays(options.Value.RetentionDays);
        return await db.Database.ExecuteSqlAsync($"""
            DELETE FROM sagas.order_saga_messages
            WHERE "Id" IN (SELECT "Id" FROM sagas.order_saga_messages WHERE "At" < now() - {retention} ORDER BY "Id" LIMIT {BatchSize})
            """, cancellationToken);
    }
}
