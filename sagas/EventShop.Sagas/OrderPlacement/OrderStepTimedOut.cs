namespace EventShop.Sagas.OrderPlacement;

/// <summary>Raised by <see cref="StepTimeoutSweeper"/> when a step got no reply before its deadline. Only the saga host uses it.</summary>
public sealed record OrderStepTimedOut(Guid OrderId, Guid StepToken, string State);
