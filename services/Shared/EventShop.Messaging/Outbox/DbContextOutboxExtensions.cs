using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Messaging.Outbox;

public static class DbContextOutboxExtensions
{
    /// <summary>
    /// Publishes <paramref name="message"/> when, and only when, the current transaction of <paramref name="dbContext"/> commits.
    /// For code outside a consumer that tracks entities with EF and saves them itself (the saga host's timeout sweeper); code
    /// that does not uses <see cref="MessagingTransaction.Publish"/>, and consumers simply call <c>context.Publish</c>.
    /// </summary>
    public static Guid PublishThroughOutbox<T>(this DbContext dbContext, T message, Guid? correlationId = null, TimeProvider? clock = null)
        where T : class
    {
        var messageId = SequentialIds.Next();
        dbContext.Set<OutboxMessage>().Add(OutboxSerializer.Create(message, typeof(T), messageId, destinationAddress: null,
            correlationId, conversationId: NewId.NextGuid(), initiatorId: null, clock ?? TimeProvider.System));
        return messageId;
    }
}
