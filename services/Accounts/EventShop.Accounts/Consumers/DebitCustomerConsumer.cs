using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;
using EventShop.Contracts;
using EventShop.Contracts.Accounts;
using MassTransit;

namespace EventShop.Accounts.Consumers;

public sealed class DebitCustomerConsumer(AccountsDbContext db, TimeProvider clock) : IConsumer<DebitCustomer>
{
    public async Task Consume(ConsumeContext<DebitCustomer> context)
    {
        var command = context.Message;
        var account = await db.LockAccountAsync(command.CustomerId, context.CancellationToken);

        var rejection = await RejectionAsync(account, command, context.CancellationToken);
        if (rejection is not null)
        {
            await context.Publish(new CustomerDebitRejected(command.OrderId, command.CustomerId, rejection));
            return;
        }

        var existing = await db.FindEntryAsync(command.OrderId, LedgerEntryType.Debit, context.CancellationToken);
        if (existing is null)
            db.Ledger.Add(account!.Post(command.OrderId, LedgerEntryType.Debit, -command.Amount, clock.GetUtcNow()));

        // A repeated command (new message id, same order) gets the same answer and moves nothing.
        await context.Publish(new CustomerDebited(command.OrderId, command.CustomerId, command.Amount));
    }

    async Task<string?> RejectionAsync(Account? account, DebitCustomer command, CancellationToken cancellationToken)
    {
        if (await db.FindEntryAsync(command.OrderId, LedgerEntryType.DebitVoided, cancellationToken) is not null)
            return RejectionReasons.Voided;
        if (account is null)
            return RejectionReasons.AccountNotFound;
        if (account.Kind != AccountKind.Customer)
            return RejectionReasons.WrongAccountKind;
        if (await db.FindEntryAsync(command.OrderId, LedgerEntryType.Debit, cancellationToken) is not null)
            return null;
        if (account.Status == AccountStatus.Frozen)
            return RejectionReasons.AccountFrozen;
        if (account.Balance < command.Amount)
            return RejectionReasons.InsufficientFunds;
        return null;
    }
}
