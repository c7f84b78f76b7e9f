using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace EventShop.Messaging.Outbox;

/// <summary>
/// Turns a message into an outbox row and back. The body is plain JSON of the message record (not a MassTransit envelope):
/// readable in psql, and the relay hands the object back to MassTransit, which builds the envelope as for any publish.
/// </summary>
public static class OutboxSerializer
{
    static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
    static readonly ConcurrentDictionary<string, Type> TypesByName = new();

    public static OutboxMessage Create(object message, Type messageType, Guid messageId, string? destinationAddress,
        Guid? correlationId, Guid? conversationId, Guid? initiatorId)
    {
        return new OutboxMessage
        {
            MessageId = messageId,
            MessageType = TypeName(messageType),
            Body = JsonSerializer.Serialize(message, messageType, JsonOptions),
            DestinationAddress = destinationAddress,
            CorrelationId = correlationId,
            ConversationId = conversationId,
            InitiatorId = initiatorId,
            TraceParent = Activity.Current?.Id,
        };
    }

    public static (object Message, Type MessageType) Read(OutboxMessage row)
    {
        var type = TypesByName.GetOrAdd(row.MessageType, name => Type.GetType(name, throwOnError: true)!);
        var message = JsonSerializer.Deserialize(row.Body, type, JsonOptions)
            ?? throw new InvalidOperationException($"Outbox message {row.MessageId} has an empty body");
        return (message, type);
    }

    public static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}
