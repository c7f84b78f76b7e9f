using EventShop.Accounts.Domain;
using EventShop.Contracts;

namespace EventShop.Accounts.Tests;

/// <summary>When a merchant's account is credited for an order (Account.RejectCredit): no balance check, the same markers as a debit.</summary>
public sealed class CreditRulesTests
{
    static readonly Guid OrderId = Guid.NewGuid();
    static readonly DateTimeOffset Now = new(2026, 12, 2, 7, 0, 0, TimeSpan.Zero);

    static Account Merchant(AccountStatus status = AccountStatus.Active)
    {
        var account = Account.Open("shop", AccountKind.Merchant, 0m, Now);
        account.Status = status;
        return account;
    }

    static OrderLedger Ledger(params LedgerEntryType[] types) =>
        new(types.Select(type => new LedgerEntry { AccountId = "shop", OrderId = OrderId, Type = type, Amount = 0, CreatedAt = Now }).ToList());

    [Fact]
    public void When_the_merchant_is_active_Should_accept_whatever_its_balance()
    {
        Assert.Null(Account.RejectCredit(Merchant(), Ledger()));
    }

    [Fact]
    public void When_the_merchant_is_frozen_Should_reject_with_AccountFrozen()
    {
        Assert.Equal(RejectionReasons.AccountFrozen, Account.RejectCredit(Merchant(AccountStatus.Frozen), Ledger()));
    }

    [Fact]
    public void When_the_merchant_does_not_exist_Should_reject_with_AccountNotFound()
    {
        Assert.Equal(RejectionReasons.AccountNotFound, Account.RejectCredit(null, Ledger()));
    }

    [Fact]
    public void When_the_account_is_a_customer_Should_reject_with_WrongAccountKind()
    {
        var customer = Account.Open("alice", AccountKind.Customer, 100m, Now);

        Assert.Equal(RejectionReasons.WrongAccountKind, Account.RejectCredit(customer, Ledger()));
    }

    [Fact]
    public void When_the_reversal_came_first_Should_reject_with_Voided()
    {
        Assert.Equal(RejectionReasons.Voided, Account.RejectCredit(Merchant(), Ledger(LedgerEntryType.CreditVoided)));
        Assert.Equal(RejectionReasons.Voided, Account.RejectCredit(null, Ledger(LedgerEntryType.CreditVoided)));
    }

    [Fact]
    public void When_the_order_was_already_credited_Should_accept_the_repeat_even_if_frozen_since()
    {
        Assert.Null(Account.RejectCredit(Merchant(AccountStatus.Frozen), Ledger(LedgerEntryType.Credit)));
    }

    [Fact]
    public void A_debit_marker_of_the_same_order_does_not_decide_the_credit()
    {
        // The customer's refund voided the debit; the merchant's credit has its own marker.
        Assert.Null(Account.RejectCredit(Merchant(), Ledger(LedgerEntryType.DebitVoided)));
    }

    [Fact]
    public void Posting_a_credit_and_its_reversal_leaves_the_balance_where_it_was()
    {
        var merchant = Merchant();
        var credit = merchant.Post(OrderId, LedgerEntryType.Credit, 25.50m, Now);
        Assert.Equal(25.50m, merchant.Balance);

        var reversal = merchant.Post(OrderId, LedgerEntryType.CreditReversal, -credit.Amount, Now);

        Assert.Equal(-25.50m, reversal.Amount);
        Assert.Equal(0m, merchant.Balance);
    }
}
