using EventShop.Contracts.Accounts;
using EventShop.Contracts.Orders;
using EventShop.Contracts.Points;
using EventShop.Sagas.OrderPlacement;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EventShop.Sagas.Tests;

/// <summary>
/// A deliberately changed copy of <see cref="OrderStateMachine"/>'s first two steps, as a developer might write it by
/// mistake: after the debit it accrues the points at once and never credits the merchant. Replaying a real order's
/// recording on it must diverge at <c>CustomerDebited</c>.
/// </summary>
public sealed class ChangedOrderStateMachine : MassTransitStateMachine<OrderState>
{
    public ChangedOrderStateMachine(IOptions<OrderPlacementOptions> options, TimeProvider clock)
    {
        var stepTimeout = options.Value.StepTimeout;
        Event(() => OrderSubmitted, e => e.CorrelateById(m => m.Message.OrderId));
        Event(() => CustomerDebited, e => e.CorrelateById(m => m.Message.OrderId));
        InstanceState(x => x.CurrentState);

        Initially(
            When(OrderSubmitted)
                .Then(context =>
                {
                    context.Saga.CustomerId = context.Message.CustomerId;
                    context.Saga.MerchantId = context.Message.MerchantId;
                    context.Saga.Total = context.Message.Total;
                    context.Saga.Points = (long)decimal.Floor(context.Message.Total);
                    context.Saga.CreatedAt = clock.GetUtcNow();
                    context.Saga.StepToken = NewId.NextGuid();
                    context.Saga.StepTimeout = stepTimeout;
                    context.Saga.StepAttempts = 1;
                })
                .Publish(context => new DebitCustomer(context.Saga.CorrelationId, context.Saga.CustomerId, context.Saga.Total))
                .TransitionTo(Debiting));

        During(Debiting,
            When(CustomerDebited)
                .Publish(context => new AccruePoints(context.Saga.CorrelationId, context.Saga.CustomerId, context.Saga.Points))
                .TransitionTo(Accruing));
    }

    public State Debiting { get; private set; } = null!;
    public State Accruing { get; private set; } = null!;

    public Event<OrderSubmitted> OrderSubmitted { get; private set; } = null!;
    public Event<CustomerDebited> CustomerDebited { get; private set; } = null!;
}
