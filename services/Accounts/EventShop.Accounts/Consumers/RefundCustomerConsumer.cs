using EventShop.Accounts.Domain;
using EventShop.Contracts.Accounts;
using EventShop.Messaging;
using MassTransit;

namespace EventShop.Accounts.Consumers;

public sealed class RefundCustomerConsumer(Compensation compensation, UnitOfWork unitOfWork) : IConsumer<RefundCustomer>
{
    public async Task Consume(ConsumeContext<RefundCustomer> context)
    {
        var command = context.Message;
        var refunded = await compensation.UndoAsync(LedgerUndo.Refund, command.CustomerId, command.OrderId, context.CancellationToken);
        unitOfWork.Publish(new CustomerRefunded(command.OrderId, command.CustomerId, refunded));
    }
}
