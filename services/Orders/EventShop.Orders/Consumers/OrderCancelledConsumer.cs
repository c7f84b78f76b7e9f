using EventShop.Contracts.Orders;
using EventShop.Messaging;
using EventShop.Orders.Domain;
using EventShop.Orders.Infrastructure;
using MassTransit;

namespace EventShop.Orders.Consumers;

public sealed class OrderCancelledConsumer(OrdersDbContext db, OrderStatusNotifier notifier, TimeProvider clock) : IConsumer<OrderCancelled>
{
    public async Task Consume(ConsumeContext<OrderCancelled> context)
    {
        var order = await db.FindOrderAsync(context.Message.OrderId, context.CancellationToken)
            ?? throw new InvalidOperationException($"Order {context.Message.OrderId} does not exist");
        if (order.Cancel(context.Message.Reason, clock.GetUtcNow()))
        {
            await db.SaveChangesAsync(context.CancellationToken);
            context.GetPayload<MessagingTransaction>().OnCommitted(() => notifier.Changed(order));
        }
    }
}
