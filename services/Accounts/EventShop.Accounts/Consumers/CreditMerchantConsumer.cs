using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;
using EventShop.Contracts.Accounts;
using EventShop.Messaging;
using MassTransit;

namespace EventShop.Accounts.Consumers;

/// <summary>
/// Every order credits the same few merchants, so this handler never locks the merchant's row to decide: it serialises on
/// the order, reads the account without a lock (a credit needs no balance check) and moves the balance with one atomic
/// UPDATE at the very end.
/// </summary>
public sealed class CreditMerchantConsumer(AccountBook book, UnitOfWork unitOfWork, TimeProvider clock) : IConsumer<CreditMerchant>
{
    public async Task Consume(ConsumeContext<CreditMerchant> context)
    {
        var command = context.Message;
        var (account, ledger) = await book.LockOrderAndReadAccountAsync(command.OrderId, command.MerchantId, context.CancellationToken);

        var rejection = Account.RejectCredit(account, ledger);
        if (rejection is not null)
        {
            unitOfWork.Publish(new MerchantCreditRejected(command.OrderId, command.MerchantId, rejection));
            return;
        }

        // A repeated command (new message id, same order) gets the same answer and moves nothing.
        unitOfWork.Publish(new MerchantCredited(command.OrderId, command.MerchantId, command.Amount));
        if (!ledger.Has(LedgerEntryType.Credit))
        {
            book.Post(new LedgerEntry
            {
                AccountId = command.MerchantId, OrderId = command.OrderId, Type = LedgerEntryType.Credit,
                Amount = command.Amount, CreatedAt = clock.GetUtcNow(),
            });
        }
    }
}
