using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;
using EventShop.Contracts;
using EventShop.Contracts.Accounts;
using EventShop.Messaging;
using MassTransit;

namespace EventShop.Accounts.Consumers;

public sealed class DebitCustomerConsumer(AccountsDbContext db, TimeProvider clock) : IConsumer<DebitCustomer>
{
    public async Task Consume(ConsumeContext<DebitCustomer> context)
    {
        var command = context.Message;
        // The order first (it serialises this debit with its refund), then the customer's row: the balance check needs it.
        var (account, ledger) = await db.LockOrderAsync(command.OrderId, command.CustomerId, lockAccount: true, context.CancellationToken);

        var rejection = Account.RejectDebit(account, ledger, command.Amount);
        if (rejection is not null)
        {
            await context.Publish(new CustomerDebitRejected(command.OrderId, command.CustomerId, rejection));
            return;
        }

        if (!ledger.Has(LedgerEntryType.Debit))
        {
            var debit = account!.Post(command.OrderId, LedgerEntryType.Debit, -command.Amount, clock.GetUtcNow());
            AccountsDbContext.Post(context.GetPayload<MessagingTransaction>(), debit);
        }

        // A repeated command (new message id, same order) gets the same answer and moves nothing.
        await context.Publish(new CustomerDebited(command.OrderId, command.CustomerId, command.Amount));
    }
}
