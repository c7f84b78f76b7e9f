using MassTransit;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;

namespace EventShop.Messaging.Outbox;

/// <summary>
/// Wraps the consume context so that every Publish/Send made while handling the message (by a consumer or a saga activity)
/// becomes an outbox row of the message's <see cref="UnitOfWork"/> instead of going to the broker. Our handlers publish
/// through the unit of work itself; this adapter is for MassTransit's own code (a saga's activities), which publishes
/// through the consume context. MassTransit still builds the send context (ids, correlation, conversation), we only
/// change where it ends up.
/// </summary>
public sealed class TransactionalConsumeContext<TMessage> : OutboxConsumeContextProxy<TMessage>
    where TMessage : class
{
    readonly UnitOfWork _unitOfWork;

    public TransactionalConsumeContext(ConsumeContext<TMessage> context, IServiceProvider provider, UnitOfWork unitOfWork)
        : base(context, new OutboxConsumeOptions { ConsumerType = typeof(TMessage).Name }, provider) =>
        _unitOfWork = unitOfWork;

    public override Task AddSend<T>(SendContext<T> context)
    {
        var destination = IsPublish(context) ? null : context.DestinationAddress?.ToString();
        _ = _unitOfWork.AddToOutbox(context.Message, typeof(T), destination, context.CorrelationId, context.ConversationId, context.InitiatorId);
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
