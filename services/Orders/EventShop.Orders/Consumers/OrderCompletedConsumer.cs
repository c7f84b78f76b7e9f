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
        var order = await db.ReadOrderAsync(context.Message.OrderId, context.CancellationToken, forUpdate: true)
            ?? throw new InvalidOperationException($"Order {context.Message.OrderId} does not exist");
        if (!order.Complete(context.Message.PointsAccrued, clock.GetUtcNow()))
            return; // it had ended already: a duplicate or late outcome

        // Written by the transactional filter, with the inbox row, in one batch.
        var transaction = context.GetPayload<MessagingTransaction>();
        OrdersDbContext.SaveStatus(transaction, order);
        transaction.OnCommitted(() => notifier.Changed(order));
    }
}
