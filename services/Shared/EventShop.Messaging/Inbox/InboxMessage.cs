namespace EventShop.Messaging.Inbox;

/// <summary>
/// Proof that <see cref="Consumer"/> has processed <see cref="MessageId"/>. Written in the consumer's own transaction,
/// so a redelivered message finds it and has no second effect.
/// </summary>
public sealed class InboxMessage
{
    /// <summary>The primary key's name: a unique violation on it means the message was processed before.</summary>
    public const string KeyName = "PK_inbox_messages";

    public required string Consumer { get; set; }
    public Guid MessageId { get; set; }
    public required string MessageType { get; set; }
    public DateTimeOffset ProcessedAt { get; set; }
}
