using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;
using EventShop.Contracts;
using EventShop.Contracts.Accounts;
using MassTransit;

namespace EventShop.Accounts.Consumers;

public sealed class CreditMerchantConsumer(AccountsDbContext db, TimeProvider clock) : IConsumer<CreditMerchant>
{
    public async Task Consume(ConsumeContext<CreditMerchant> context)
    {
        var command = context.Message;
        var account = await db.LockAccountAsync(command.MerchantId, context.CancellationToken);

        var rejection = await RejectionAsync(account, command, context.CancellationToken);
        if (rejection is not null)
        {
            await context.Publish(new MerchantCreditRejected(command.OrderId, command.MerchantId, rejection));
            return;
        }

        var existing = await db.FindEntryAsync(command.OrderId, LedgerEntryType.Credit, context.CancellationToken);
        if (existing is null)
            db.Ledger.Add(account!.Post(command.OrderId, LedgerEntryType.Credit, command.Amount, clock.GetUtcNow()));

        await context.Publish(new MerchantCredited(command.OrderId, command.MerchantId, command.Amount));
    }

    async Task<string?> RejectionAsync(Account? account, CreditMerchant command, CancellationToken cancellationToken)
    {
        if (await db.FindEntryAsync(command.OrderId, LedgerEntryType.CreditVoided, cancellationToken) is not null)
            return RejectionReasons.Voided;
        if (account is null)
            return RejectionReasons.AccountNotFound;
        if (account.Kind != AccountKind.Merchant)
            return RejectionReasons.WrongAccountKind;
        if (await db.FindEntryAsync(command.OrderId, LedgerEntryType.Credit, cancellationToken) is not null)
            return null;
        if (account.Status == AccountStatus.Frozen)
            return RejectionReasons.AccountFrozen;
        return null;
    }
}
