using EventShop.Messaging.Outbox;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

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

        var messagingTransaction = new MessagingTransaction(dbContext);
        // The inbox row is written with the handler's own changes, in the same batch (no round trip of its own). A message
        // that was already committed once makes that insert fail on the inbox key: the handler's work is rolled back with it.
        // A concurrent duplicate waits on the first delivery's uncommitted key and fails once that one commits.
        messagingTransaction.Insert(new InboxMessage
        {
            Consumer = consumer, MessageId = messageId, MessageType = typeof(TMessage).Name, ProcessedAt = clock.GetUtcNow(),
        });

        var transactionalContext = new TransactionalConsumeContext<TMessage>(context, scopeServices, messagingTransaction, clock);
        transactionalContext.AddOrUpdatePayload(() => messagingTransaction, _ => messagingTransaction);

        try
        {
            await next.Send(transactionalContext);
            await messagingTransaction.WriteAsync(context.CancellationToken);
        }
        catch (Exception exception) when (IsAlreadyProcessed(exception))
        {
            await transaction.RollbackAsync(CancellationToken.None);
            dbContext.ChangeTracker.Clear();
            logger.LogInformation("Skipping {MessageType} {MessageId} on {Consumer}: already processed", typeof(TMessage).Name, messageId, consumer);
            // Counts as consumed, so the broker message is acknowledged instead of being moved to the _skipped queue.
            await context.NotifyConsumed(context, TimeSpan.Zero, consumer);
            return;
        }

        await transaction.CommitAsync(context.CancellationToken);
        messagingTransaction.Committed();
        outboxSignal.Committed(messagingTransaction.OutboxRows);
    }

    /// <summary>The inbox key already exists: this consumer committed this message id before. EF's SaveChanges wraps it in
    /// a DbUpdateException; the plain batch throws it as it is.</summary>
    static bool IsAlreadyProcessed(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: InboxMessage.KeyName }
        || exception.InnerException is { } inner && IsAlreadyProcessed(inner);

    public void Probe(ProbeContext context) => context.CreateFilterScope("transactionalInbox");

    /// <summary>One inbox per receive endpoint: each queue has one consumer or saga in EventShop.</summary>
    static string ConsumerName(ConsumeContext context) =>
        context.ReceiveContext.InputAddress.AbsolutePath.TrimEnd('/').Split('/')[^1];
}
