namespace EventShop.Messaging.Outbox;

/// <summary>
/// A message committed in the same transaction as the business change that caused it, waiting for the relay.
/// The row is deleted once the broker has confirmed it; a row that exists has not been confirmed yet.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>Insertion order. Only used to keep delivery roughly FIFO: the relay never keeps a cursor on it, so gaps are harmless.</summary>
    public long Id { get; set; }

    public Guid MessageId { get; set; }
    public required string MessageType { get; set; }
    public required string Body { get; set; }

    /// <summary>Null means publish (fan out by message type); otherwise the queue or exchange address to send to.</summary>
    public string? DestinationAddress { get; set; }

    public Guid? CorrelationId { get; set; }
    public Guid? ConversationId { get; set; }
    public Guid? InitiatorId { get; set; }

    /// <summary>W3C trace context of the work that produced the message, so the trace continues after the relay sends it.</summary>
    public string? TraceParent { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public int Attempts { get; set; }
}
