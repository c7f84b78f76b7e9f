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

    /// <summary>When the current step gives up waiting for its reply. Null once the timeout fired or the saga ended.</summary>
    public DateTimeOffset? StepDeadline { get; set; }

    /// <summary>Changes with every step, so a timeout raised for an earlier step is recognised and ignored.</summary>
    public Guid StepToken { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
