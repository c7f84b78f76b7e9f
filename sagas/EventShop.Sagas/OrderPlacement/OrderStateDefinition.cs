using MassTransit;

namespace EventShop.Sagas.OrderPlacement;

public sealed class OrderStateDefinition : SagaDefinition<OrderState>
{
    public OrderStateDefinition()
    {
        // Row locks serialise events per order; across orders the endpoint works in parallel.
        ConcurrentMessageLimit = 32;
    }
}
