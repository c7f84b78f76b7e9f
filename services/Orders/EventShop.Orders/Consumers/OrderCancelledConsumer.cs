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
        var order = await db.ReadOrderAsync(context.Message.OrderId, context.CancellationToken, forUpdate: true)
            ?? throw new InvalidOperationException($"Order {context.Message.OrderId} does not exist");
        if (!order.Cancel(context.Message.Reason, clock.GetUtcNow()))
            return; // it had ended already: a duplicate or late outcome

        // Written by the transactional filter, with the inbox row, in one batch.
        var transaction = context.GetPayload<MessagingTransaction>();
        OrdersDbContext.SaveStatus(transaction, order);
        transaction.OnCommitted(() => notifier.Changed(order));
    }
}
