using System.Text.Json;

namespace EventShop.Sagas.Replay;

/// <summary>A saga's recorded history as <c>GET /api/sagas/{orderId}/messages</c> returns it.</summary>
public sealed record SagaRecording(Guid OrderId, RecordedMessage[] Messages)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static SagaRecording Parse(string json) =>
        JsonSerializer.Deserialize<SagaRecording>(json, Json) ?? throw new InvalidDataException("The recording is empty");
}

public sealed record RecordedMessage(
    int Index, DateTimeOffset At, string MessageType, string FromState, string ToState, JsonElement Body, JsonElement StateBefore,
    JsonElement StateAfter, RecordedSend[] Sent);

public sealed record RecordedSend(string MessageType, string? Destination, JsonElement Body);
