using EventShop.Contracts.Orders;
using EventShop.Messaging;
using EventShop.Orders.Domain;
using EventShop.Orders.Infrastructure;
using MassTransit;

namespace EventShop.Orders.Consumers;

public sealed class OrderCompletedConsumer(OrdersDbContext db, OrderStatusNotifier notifier, TimeProvider clock) : IConsumer<OrderCompleted>
{
    public async Task Consume(ConsumeContext<OrderCompleted> context)
    {
        var order = await db.FindOrderAsync(context.Message.OrderId, context.CancellationToken)
            ?? throw new InvalidOperationException($"Order {context.Message.OrderId} does not exist");
        // Saved by the transactional filter, with the inbox row, in one batch.
        if (order.Complete(context.Message.PointsAccrued, clock.GetUtcNow()))
            context.GetPayload<MessagingTransaction>().OnCommitted(() => notifier.Changed(order));
    }
}
