using EventShop.Accounts.Domain;
using EventShop.Contracts.Accounts;
using EventShop.Messaging;
using MassTransit;

namespace EventShop.Accounts.Consumers;

public sealed class ReverseMerchantCreditConsumer(Compensation compensation, UnitOfWork unitOfWork) : IConsumer<ReverseMerchantCredit>
{
    public async Task Consume(ConsumeContext<ReverseMerchantCredit> context)
    {
        var command = context.Message;
        var reversed = await compensation.UndoAsync(LedgerUndo.CreditReversal, command.MerchantId, command.OrderId, context.CancellationToken);
        unitOfWork.Publish(new MerchantCreditReversed(command.OrderId, command.MerchantId, -reversed));
    }
}
