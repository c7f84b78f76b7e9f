using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;
using EventShop.Contracts.Accounts;
using EventShop.Messaging;
using MassTransit;

namespace EventShop.Accounts.Consumers;

public sealed class ReverseMerchantCreditConsumer(AccountsDbContext db, TimeProvider clock) : IConsumer<ReverseMerchantCredit>
{
    public async Task Consume(ConsumeContext<ReverseMerchantCredit> context)
    {
        var command = context.Message;
        var reversal = await Compensation.PlanAsync(db, command.MerchantId, command.OrderId,
            LedgerEntryType.Credit, LedgerEntryType.CreditReversal, LedgerEntryType.CreditVoided, clock.GetUtcNow(), context.CancellationToken);

        await context.Publish(new MerchantCreditReversed(command.OrderId, command.MerchantId, -reversal.Amount));
        reversal.Apply(context.GetPayload<MessagingTransaction>());
    }
}
