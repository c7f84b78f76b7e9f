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
        var ledger = await db.OrderLedgerAsync(command.OrderId, context.CancellationToken);

        var rejection = Rejection(account, ledger);
        if (rejection is not null)
        {
            await context.Publish(new MerchantCreditRejected(command.OrderId, command.MerchantId, rejection));
            return;
        }

        if (!ledger.Has(LedgerEntryType.Credit))
            db.Ledger.Add(account!.Post(command.OrderId, LedgerEntryType.Credit, command.Amount, clock.GetUtcNow()));

        await context.Publish(new MerchantCredited(command.OrderId, command.MerchantId, command.Amount));
    }

    static string? Rejection(Account? account, OrderLedger ledger)
    {
        if (ledger.Has(LedgerEntryType.CreditVoided))
            return RejectionReasons.Voided;
        if (account is null)
            return RejectionReasons.AccountNotFound;
        if (account.Kind != AccountKind.Merchant)
            return RejectionReasons.WrongAccountKind;
        if (ledger.Has(LedgerEntryType.Credit))
            return null;
        if (account.Status == AccountStatus.Frozen)
            return RejectionReasons.AccountFrozen;
        return null;
    }
}
