using EventShop.Messaging.Outbox;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace EventShop.Messaging.Inbox;

/// <summary>
/// Runs every consumer and saga of a service inside one database transaction that also records the message in the inbox
/// and holds every message the handler sends (outbox). Either all of it commits or none of it does, and a message that was
/// already committed once is acknowledged without running the handler again.
/// </summary>
public sealed class TransactionalInboxFilter<TMessage>(
    ServiceDbContext serviceDbContext,
    IServiceProvider scopeServices,
    OutboxSignal outboxSignal,
    TimeProvider clock,
    ILogger<TransactionalInboxFilter<TMessage>> logger) : IFilter<ConsumeContext<TMessage>>
    where TMessage : class
{
    public async Task Send(ConsumeContext<TMessage> context, IPipe<ConsumeContext<TMessage>> next)
    {
        var messageId = context.MessageId ?? throw new InvalidOperationException($"{typeof(TMessage).Name} arrived without a MessageId");
        var consumer = ConsumerName(context);
        var dbContext = serviceDbContext.DbContext;

        // A retry may reuse the scope of the failed attempt: start from a clean change tracker.
        dbContext.ChangeTracker.Clear();
        // SaveChanges inside our transaction would wrap each call in SAVEPOINT/RELEASE (two more round trips). A failure
        // fails the whole message and the retry starts a new transaction, so a savepoint would never be rolled back to.
        dbContext.Database.AutoSavepointsEnabled = false;

        await using var transaction = await dbContext.Database.BeginTransactionAsync(context.CancellationToken);

        // Claim the message id in one round trip: a row that already exists means an earlier delivery committed.
        var claimed = await dbContext.Database.ExecuteSqlAsync($"""
            INSERT INTO messaging.inbox_messages ("Consumer", "MessageId", "MessageType", "ProcessedAt")
            VALUES ({consumer}, {messageId}, {typeof(TMessage).Name}, {clock.GetUtcNow()})
            ON CONFLICT DO NOTHING
            """, context.CancellationToken);
        if (claimed == 0)
        {
            logger.LogInformation("Skipping {MessageType} {MessageId} on {Consumer}: already processed", typeof(TMessage).Name, messageId, consumer);
            // Counts as consumed, so the broker message is acknowledged instead of being moved to the _skipped queue.
            await context.NotifyConsumed(context, TimeSpan.Zero, consumer);
            return;
        }

        var transactionalContext = new TransactionalConsumeContext<TMessage>(context, scopeServices, dbContext, clock);
        var messagingTransaction = new MessagingTransaction(dbContext);
        transactionalContext.AddOrUpdatePayload(() => messagingTransaction, _ => messagingTransaction);

        await next.Send(transactionalContext);

        await dbContext.SaveChangesAsync(context.CancellationToken);
        await transaction.CommitAsync(context.CancellationToken);
        messagingTransaction.Committed();

        if (transactionalContext.OutboxMessageCount > 0)
            outboxSignal.Notify();
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("transactionalInbox");

    /// <summary>One inbox per receive endpoint: each queue has one consumer or saga in EventShop.</summary>
    static string ConsumerName(ConsumeContext context) =>
        context.ReceiveContext.InputAddress.AbsolutePath.TrimEnd('/').Split('/')[^1];
}
