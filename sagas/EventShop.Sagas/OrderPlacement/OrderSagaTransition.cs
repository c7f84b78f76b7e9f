namespace EventShop.Sagas.OrderPlacement;

/// <summary>One transition of one saga, written in the transaction that made it: the audit trail behind /api/sagas.</summary>
public sealed class OrderSagaTransition
{
    public long Id { get; init; }
    public Guid OrderId { get; init; }
    public DateTimeOffset At { get; init; }
    public required string Event { get; init; }
    public required string FromState { get; init; }
    public required string ToState { get; init; }
    public string? Detail { get; init; }
}
