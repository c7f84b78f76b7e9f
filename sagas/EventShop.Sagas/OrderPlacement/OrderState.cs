using MassTransit;

namespace EventShop.Sagas.OrderPlacement;

/// <summary>One order being placed. CorrelationId is the OrderId.</summary>
public sealed class OrderState : SagaStateMachineInstance
{
    public Guid CorrelationId { get; set; }
    public string CurrentState { get; set; } = "";

    public string CustomerId { get; set; } = "";
    public string MerchantId { get; set; } = "";
    public decimal Total { get; set; }
    public long Points { get; set; }

    /// <summary>Why the order is being (or was) cancelled: the rejection reason of the failed step, or which step timed out.</summary>
    public string? FailureReason { get; set; }

    /// <summary>Why the saga stopped in CompensationFailed: which compensation got no reply, how often it was sent.</summary>
    public string? CompensationFailure { get; set; }

    /// <summary>A stable code for <see cref="FailureReason"/> (<see cref="FailureCodes"/>).</summary>
    public string? FailureCode { get; set; }

    /// <summary>In CompensationFailed: the compensating state that gave up, which an operator's retry resumes.</summary>
    public string? FailedCompensation { get; set; }

    /// <summary>
    /// When the saga entered its current state, on the database's clock, written by the database only (the same trigger as
    /// <see cref="StepDeadline"/>): what "stuck" is measured against.
    /// </summary>
    public DateTimeOffset? StateEnteredAt { get; set; }

    /// <summary>
    /// How long the current step waits for its reply; null once the saga has ended. The saga sets only this: the database
    /// turns it into <see cref="StepDeadline"/> on its own clock whenever <see cref="StepToken"/> changes (a trigger, ADR 0008),
    /// so no saga host's clock is ever compared with the sweeper's.
    /// </summary>
    public TimeSpan? StepTimeout { get; set; }

    /// <summary>
    /// When the current step gives up waiting for its reply, on the database's clock, written by the database only: set when
    /// a step starts, moved on by the sweeper each time it raises the timeout (until the saga consumes one), null once ended.
    /// </summary>
    public DateTimeOffset? StepDeadline { get; set; }

    /// <summary>How often the current step's command has been sent: a compensation that keeps timing out has a budget.</summary>
    public int StepAttempts { get; set; }

    /// <summary>Changes with every step, so a timeout raised for an earlier step is recognised and ignored.</summary>
    public Guid StepToken { get; set; }

    /// <summary>
    /// When the saga started, on the database's clock: the trigger of <see cref="StepDeadline"/> overwrites on insert what the
    /// host set, so a host with a skewed clock cannot move a saga out of the invariant check's cut (ADR 0013).
    /// </summary>
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
