namespace EventShop.Sagas.OrderPlacement;

/// <summary>
/// One operator action that changed state: who (the token's subject), when, what, on what. The saga host keeps the whole
/// trail (ADR 0016): its own actions in the transaction that makes them, the dashboard's failure actions through its API.
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; init; }
    public DateTimeOffset At { get; init; }
    public required string Subject { get; init; }
    public required string Action { get; init; }
    public required string Target { get; init; }

    /// <summary>The service that performed the action.</summary>
    public required string Service { get; init; }
    public Guid? OrderId { get; init; }
    public string? Detail { get; init; }
}
