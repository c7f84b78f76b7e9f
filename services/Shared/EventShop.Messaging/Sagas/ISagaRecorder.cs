using EventShop.Messaging.Outbox;
using MassTransit;

namespace EventShop.Messaging.Sagas;

/// <summary>
/// Records what a saga consumed and what it sent in response, in the message's own transaction. Registered by a saga host
/// that wants a replayable history; the repository calls it for every message that reached an instance.
/// </summary>
public interface ISagaRecorder<in TSaga>
    where TSaga : class, ISaga
{
    /// <summary>The instance as read (or as created) before the saga runs; handed back to <see cref="Record"/>.</summary>
    string Capture(TSaga instance);

    /// <summary>After the saga has run, before the commit: add the record to <paramref name="unitOfWork"/>.</summary>
    void Record(UnitOfWork unitOfWork, ConsumeContext context, object message, Type messageType, string before, TSaga after, IReadOnlyList<OutboxMessage> sent);
}
