using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;
using EventShop.Contracts.Accounts;
using EventShop.Messaging;
using MassTransit;

namespace EventShop.Accounts.Consumers;

public sealed class RefundCustomerConsumer(AccountsDbContext db, TimeProvider clock) : IConsumer<RefundCustomer>
{
    public async Task Consume(ConsumeContext<RefundCustomer> context)
    {
        var command = context.Message;
        var refund = await Compensation.PlanAsync(db, command.CustomerId, command.OrderId,
            LedgerEntryType.Debit, LedgerEntryType.Refund, LedgerEntryType.DebitVoided, clock.GetUtcNow(), context.CancellationToken);

        await context.Publish(new CustomerRefunded(command.OrderId, command.CustomerId, refund.Amount));
        refund.Apply(context.GetPayload<MessagingTransaction>());
    }
}
