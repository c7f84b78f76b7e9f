using EventShop.Messaging;
using MassTransit;

namespace EventShop.Sagas.OrderPlacement;

/// <summary>Records every state change in the saga's own transaction (so history and state can never disagree).</summary>
public sealed class TransitionHistoryObserver(TimeProvider clock) : IStateObserver<OrderState>
{
    public Task StateChanged(BehaviorContext<OrderState> context, State currentState, State previousState)
    {
        if (previousState is null || !context.TryGetPayload(out UnitOfWork? unitOfWork))
            return Task.CompletedTask;

        unitOfWork!.Insert(new OrderSagaTransition
        {
            OrderId = context.Saga.CorrelationId,
            At = clock.GetUtcNow(),
            Event = context.Event.Name,
            FromState = previousState.Name,
            ToState = currentState.Name,
            Detail = context.Saga.CompensationFailure ?? context.Saga.FailureReason,
        });
        return Task.CompletedTask;
    }
}
