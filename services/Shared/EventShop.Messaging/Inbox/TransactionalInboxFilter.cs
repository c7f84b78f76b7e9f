using EventShop.Messaging.Outbox;
using MassTransit;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventShop.Messaging.Inbox;

/// <summary>
/// Runs every consumer and saga of a service inside one database transaction that also records the message in the inbox
/// and holds every message the handler sends (outbox). Either all of it commits or none of it does, and a message that was
/// already committed once is acknowledged without running the handler again.
/// </summary>
public sealed class TransactionalInboxFilter<TMessage>(
    UnitOfWork unitOfWork,
    IServiceProvider scopeServices,
    ILogger<TransactionalInboxFilter<TMessage>> logger) : IFilter<ConsumeContext<TMessage>>
    where TMessage : class
{
    public async Task Send(ConsumeContext<TMessage> context, IPipe<ConsumeContext<TMessage>> next)
    {
        var messageId = context.MessageId ?? throw new InvalidOperationException($"{typeof(TMessage).Name} arrived without a MessageId");
        var consumer = ConsumerName(context);

        await unitOfWork.BeginMessageAsync(context, context.CancellationToken);
        try
        {
            // The inbox row is written with the handler's own changes, in the same batch (no round trip of its own). A
            // message that was already committed once makes that insert fail on the inbox key: the handler's work is rolled
            // back with it. A concurrent duplicate waits on the first delivery's uncommitted key and fails once that one commits.
            unitOfWork.Insert(new InboxMessage
            {
                Consumer = consumer, MessageId = messageId, MessageType = typeof(TMessage).Name,
            });

            var transactionalContext = new TransactionalConsumeContext<TMessage>(context, scopeServices, unitOfWork);
            // For MassTransit's side of the handler (the saga repository and its observers), which is not built from the scope.
            transactionalContext.AddOrUpdatePayload(() => unitOfWork, _ => unitOfWork);

            await next.Send(transactionalContext);
            await unitOfWork.CommitMessageAsync(context.CancellationToken);
        }
        catch (Exception exception) when (IsAlreadyProcessed(exception))
        {
            await unitOfWork.RollbackAsync();
            logger.LogInformation("Skipping {MessageType} {MessageId} on {Consumer}: already processed", typeof(TMessage).Name, messageId, consumer);
            // Counts as consumed, so the broker message is acknowledged instead of being moved to the _skipped queue.
            await context.NotifyConsumed(context, TimeSpan.Zero, consumer);
        }
        catch
        {
            await unitOfWork.RollbackAsync();
            throw;
        }
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
