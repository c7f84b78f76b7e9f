using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
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

/// <summary>Keeps the inbox from growing forever: deletes entries older than the retention.</summary>
public sealed class InboxCleanup<TDbContext>(IServiceScopeFactory scopeFactory, IOptions<InboxOptions> options, TimeProvider clock,
    ILogger<InboxCleanup<TDbContext>> logger) : RetentionCleanup(options.Value.CleanupInterval, clock, logger)
    where TDbContext : DbContext
{
    protected override string Removed => $"inbox entries older than {options.Value.Retention}";

    protected override int BatchSize => 5000;

    protected override async Task<int> DeleteBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
        return await db.Database.ExecuteSqlAsync($"""
            DELETE FROM messaging.inbox_messages
            WHERE ctid IN (SELECT ctid FROM messaging.inbox_messages WHERE "ProcessedAt" < now() - {options.Value.Retention} LIMIT {BatchSize})
            """, cancellationToken);
    }
}
