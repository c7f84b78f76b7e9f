namespace EventShop.Sagas.OrderPlacement;

/// <summary>
/// An operator asks the saga to send its current step's (or compensation's) command once more. Raised by the saga API through
/// the outbox, in the transaction that records the action in the audit trail; only the saga host uses it.
/// </summary>
/// <param name="Compensation">For a saga in CompensationFailed: the compensating state to resume, as its history names it.</param>
public sealed record RetrySagaStep(Guid OrderId, string? Compensation);

/// <summary>An operator cancels an order in flight: the saga compensates what was done and ends Cancelled (CancelledByOperator).</summary>
public sealed record CancelSaga(Guid OrderId);
