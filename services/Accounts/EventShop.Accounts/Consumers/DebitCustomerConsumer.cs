using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;
using EventShop.Contracts.Accounts;
using EventShop.Messaging;
using MassTransit;

namespace EventShop.Accounts.Consumers;

public sealed class DebitCustomerConsumer(AccountBook book, UnitOfWork unitOfWork, TimeProvider clock) : IConsumer<DebitCustomer>
{
    public async Task Consume(ConsumeContext<DebitCustomer> context)
    {
        var command = context.Message;
        // The order first (it serialises this debit with its refund), then the customer's row: the balance check needs it.
        var (account, ledger) = await book.LockOrderAndAccountAsync(command.OrderId, command.CustomerId, context.CancellationToken);

        var rejection = Account.RejectDebit(account, ledger, command.Amount);
        if (rejection is not null)
        {
            unitOfWork.Publish(new CustomerDebitRejected(command.OrderId, command.CustomerId, rejection));
            return;
        }

        if (!ledger.Has(LedgerEntryType.Debit))
            book.Post(account!.Post(command.OrderId, LedgerEntryType.Debit, -command.Amount, clock.GetUtcNow()));

        // A repeated command (new message id, same order) gets the same answer and moves nothing.
        unitOfWork.Publish(new CustomerDebited(command.OrderId, command.CustomerId, command.Amount));
    }
}
