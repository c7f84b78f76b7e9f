using MassTransit;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;

namespace EventShop.Messaging.Outbox;

/// <summary>
/// Wraps the consume context so that every Publish/Send made while handling the message (by a consumer or a saga activity)
/// becomes an outbox row written with the handler's transaction (<see cref="MessagingTransaction"/>) instead of going to
/// the broker. MassTransit still builds the send context (ids, correlation, conversation), we only change where it ends up.
/// </summary>
public sealed class TransactionalConsumeContext<TMessage> : OutboxConsumeContextProxy<TMessage>
    where TMessage : class
{
    readonly MessagingTransaction _transaction;
    readonly TimeProvider _clock;

    public TransactionalConsumeContext(ConsumeContext<TMessage> context, IServiceProvider provider, MessagingTransaction transaction, TimeProvider clock)
        : base(context, new OutboxConsumeOptions { ConsumerType = typeof(TMessage).Name }, provider)
    {
        _transaction = transaction;
        _clock = clock;
    }

    public override Task AddSend<T>(SendContext<T> context)
    {
        var destination = IsPublish(context) ? null : context.DestinationAddress?.ToString();
        // Our own message id instead of MassTransit's: it becomes the receivers' inbox key (SequentialIds explains why).
        _transaction.AddOutbox(OutboxSerializer.Create(context.Message, typeof(T), SequentialIds.Next(),
            destination, context.CorrelationId, context.ConversationId, context.InitiatorId, _clock));
        return Task.CompletedTask;
    }

    static bool IsPublish<T>(SendContext<T> context) where T : class =>
        context is PublishContext || context.TryGetPayload<PublishContext>(out _);

    // The members below drive MassTransit's own outbox delivery, which we do not use: our relay delivers from the table.
    public override bool ContinueProcessing { get; set; } = true;
    public override bool IsMessageConsumed => false;
    public override bool IsOutboxDelivered => false;
    public override int ReceiveCount => 0;
    public override long? LastSequenceNumber => null;
    public override Task SetConsumed() => Task.CompletedTask;
    public override Task SetDelivered() => Task.CompletedTask;
    public override Task<List<OutboxMessageContext>> LoadOutboxMessages() => Task.FromResult(new List<OutboxMessageContext>());
    public override Task NotifyOutboxMessageDelivered(OutboxMessageContext message) => Task.CompletedTask;
    public override Task RemoveOutboxMessages() => Task.CompletedTask;
}
