using EventShop.Contracts.Orders;
using EventShop.Messaging;
using EventShop.Orders.Infrastructure;
using EventShop.Orders.StatusNotifications;
using MassTransit;

namespace EventShop.Orders.Consumers;

public sealed class OrderCancelledConsumer(OrderBook orders, UnitOfWork unitOfWork, OrderStatusNotifier notifier, TimeProvider clock)
    : IConsumer<OrderCancelled>
{
    public async Task Consume(ConsumeContext<OrderCancelled> context)
    {
        var order = await orders.LockAsync(context.Message.OrderId, context.CancellationToken)
            ?? throw new InvalidOperationException($"Order {context.Message.OrderId} does not exist");
        if (!order.Cancel(context.Message.Reason, context.Message.FailureCode, clock.GetUtcNow()))
            return; // it had ended already: a duplicate or late outcome

        orders.SaveStatus(order);
        unitOfWork.OnCommitted(() => notifier.Changed(order));
    }
}
