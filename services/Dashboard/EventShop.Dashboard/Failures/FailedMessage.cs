namespace EventShop.Dashboard.Failures;

/// <summary>A message that left the normal flow: in a broker error queue (<c>error-queue</c>) or parked in an outbox (<c>outbox</c>).</summary>
public sealed record FailedMessage(string Id, string Service, string Queue, string Source, string MessageType, Guid? OrderId,
    string Error, DateTimeOffset? FailedAt, int Attempts)
{
    public string Group => FailureId.Group(Service, MessageType, Error);

    /// <summary>The message's own id, which the receivers' inboxes know it by.</summary>
    public string MessageId { get; init; } = "";

    public string? Body { get; init; }
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}
