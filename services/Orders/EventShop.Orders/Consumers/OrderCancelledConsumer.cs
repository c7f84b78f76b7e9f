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
        // Saved by the transactional filter, with the inbox row, in one batch.
        if (order.Cancel(context.Message.Reason, clock.GetUtcNow()))
            context.GetPayload<MessagingTransaction>().OnCommitted(() => notifier.Changed(order));
    }
}
