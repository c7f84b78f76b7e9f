namespace EventShop.Sagas.Recording;

/// <summary>
/// One message an order's saga consumed, written in the transaction that handled it: what came in, the saga before and
/// after, and what it sent in response. The input of <c>infra/eventshop replay</c>.
/// </summary>
public sealed class OrderSagaMessage
{
    public long Id { get; init; }
    public Guid OrderId { get; init; }

    /// <summary>When the saga handled it, on the database's clock (ADR 0008).</summary>
    public DateTimeOffset At { get; init; }

    public Guid? MessageId { get; init; }

    /// <summary>The consumed type as MassTransit names it on the wire, e.g. <c>urn:message:EventShop.Contracts.Accounts:CustomerDebited</c>.</summary>
    public required string MessageType { get; init; }

    /// <summary>The message as JSON (MassTransit's serializer settings).</summary>
    public required string Body { get; init; }

    /// <summary>The transport headers and the envelope's ids, as one JSON object.</summary>
    public required string Headers { get; init; }

    public required string StateBefore { get; init; }
    public required string StateAfter { get; init; }

    /// <summary>What the saga sent in response, a JSON array of <c>{"messageType","body"}</c>.</summary>
    public required string Sent { get; init; }
}
