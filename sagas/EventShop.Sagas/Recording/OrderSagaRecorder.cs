using System.Text.Json;
using System.Text.Json.Nodes;
using EventShop.Messaging;
using EventShop.Messaging.Outbox;
using EventShop.Messaging.Sagas;
using EventShop.Sagas.OrderPlacement;
using MassTransit;
using MassTransit.Serialization;

namespace EventShop.Sagas.Recording;

/// <summary>Writes an <see cref="OrderSagaMessage"/> for every message the order saga consumed, with the saga's own writes.</summary>
public sealed class OrderSagaRecorder : ISagaRecorder<OrderState>
{
    public static readonly JsonSerializerOptions StateJson = new(JsonSerializerDefaults.Web);

    public string Capture(OrderState instance) => JsonSerializer.Serialize(instance, StateJson);

    public void Record(UnitOfWork unitOfWork, ConsumeContext context, object message, Type messageType, string before, OrderState after,
        IReadOnlyList<OutboxMessage> sent)
    {
        var headers = new JsonObject
        {
            ["messageId"] = context.MessageId?.ToString(),
            ["correlationId"] = context.CorrelationId?.ToString(),
            ["conversationId"] = context.ConversationId?.ToString(),
            ["initiatorId"] = context.InitiatorId?.ToString(),
            ["sourceAddress"] = context.SourceAddress?.ToString(),
            ["sentTime"] = context.SentTime,
        };
        foreach (var header in context.Headers.GetAll())
            headers[header.Key] = header.Value?.ToString();

        var responses = new JsonArray([.. sent.Select(row => new JsonObject
        {
            ["messageType"] = row.MessageType,
            ["destination"] = row.DestinationAddress,
            ["body"] = JsonNode.Parse(row.Body),
        })]);

        unitOfWork.Insert(new OrderSagaMessage
        {
            OrderId = after.CorrelationId,
            MessageId = context.MessageId,
            MessageType = MessageUrn.ForTypeString(messageType),
            Body = JsonSerializer.Serialize(message, messageType, SystemTextJsonMessageSerializer.Options),
            Headers = headers.ToJsonString(),
            StateBefore = before,
            StateAfter = JsonSerializer.Serialize(after, StateJson),
            Sent = responses.ToJsonString(),
        });
    }
}
