using EventShop.Accounts.Domain;
using EventShop.Contracts;

namespace EventShop.Accounts.Tests;

/// <summary>When a customer's account pays for an order (Account.RejectDebit), and what paying does to it (Account.Post).</summary>
public sealed class DebitRulesTests
{
    static readonly Guid OrderId = Guid.NewGuid();
    static readonly DateTimeOffset Now = new(2026, 12, 2, 7, 0, 0, TimeSpan.Zero);

    static Account Customer(decimal balance, AccountStatus status = AccountStatus.Active)
    {
        var account = Account.Open("alice", AccountKind.Customer, balance, Now);
        account.Status = status;
        return account;
    }

    static OrderLedger Ledger(params LedgerEntryType[] types) =>
        new(types.Select(type => new LedgerEntry { AccountId = "alice", OrderId = OrderId, Type = type, Amount = 0, CreatedAt = Now }).ToList());

    [Fact]
    public void When_the_balance_covers_the_amount_Should_accept()
    {
        Assert.Null(Account.RejectDebit(Customer(25.00m), Ledger(), 25.00m));
    }

    [Fact]
    public void When_the_balance_is_too_low_Should_reject_with_InsufficientFunds()
    {
        Assert.Equal(RejectionReasons.InsufficientFunds, Account.RejectDebit(Customer(24.99m), Ledger(), 25.00m));
    }

    [Fact]
    public void When_the_account_is_frozen_Should_reject_with_AccountFrozen_before_looking_at_the_balance()
    {
        Assert.Equal(RejectionReasons.AccountFrozen, Account.RejectDebit(Customer(0m, AccountStatus.Frozen), Ledger(), 25.00m));
    }

    [Fact]
    public void When_the_account_does_not_exist_Should_reject_with_AccountNotFound()
    {
        Assert.Equal(RejectionReasons.AccountNotFound, Account.RejectDebit(null, Ledger(), 25.00m));
    }

    [Fact]
    public void When_the_account_is_a_merchant_Should_reject_with_WrongAccountKind()
    {
        var merchant = Account.Open("shop", AccountKind.Merchant, 1000m, Now);

        Assert.Equal(RejectionReasons.WrongAccountKind, Account.RejectDebit(merchant, Ledger(), 25.00m));
    }

    [Fact]
    public void When_the_refund_came_first_Should_reject_with_Voided_whatever_the_account()
    {
        Assert.Equal(RejectionReasons.Voided, Account.RejectDebit(Customer(100m), Ledger(LedgerEntryType.DebitVoided), 25.00m));
        Assert.Equal(RejectionReasons.Voided, Account.RejectDebit(null, Ledger(LedgerEntryType.DebitVoided), 25.00m));
    }

    [Fact]
    public void When_the_order_was_already_debited_Should_accept_the_repeat_even_if_frozen_or_short_since()
    {
        Assert.Null(Account.RejectDebit(Customer(0m, AccountStatus.Frozen), Ledger(LedgerEntryType.Debit), 25.00m));
    }

    [Fact]
    public void When_the_order_was_already_debited_and_refunded_Should_still_accept_the_repeat()
    {
        Assert.Null(Account.RejectDebit(Customer(0m), Ledger(LedgerEntryType.Debit, LedgerEntryType.Refund), 25.00m));
    }

    [Theory]
    [InlineData("0.00"), InlineData("24.99"), InlineData("25.00"), InlineData("100.00")]
    public void When_a_debit_is_paid_as_the_rule_decides_Should_never_take_the_balance_below_zero_nor_post_a_refused_one(string openingBalance)
    {
        // Issue 22, finding 8: with the balance check removed, only the database's constraint refused the overdraft and the
        // tests failed on the reason text alone. This one fails on the balance and the ledger the rule leads to.
        var opening = decimal.Parse(openingBalance, System.Globalization.CultureInfo.InvariantCulture);
        var customer = Customer(opening);
        var ledger = new List<LedgerEntry> { customer.OpeningEntry() };

        if (Account.RejectDebit(customer, Ledger(), 25.00m) is null)
            ledger.Add(customer.Post(OrderId, LedgerEntryType.Debit, -25.00m, Now));

        Assert.True(customer.Balance >= 0m, $"balance {customer.Balance} after a debit of 25.00 from {opening:0.00}");
        Assert.Equal(customer.Balance, ledger.Sum(x => x.Amount));
        Assert.Equal(opening >= 25.00m ? opening - 25.00m : opening, customer.Balance);
    }

    [Fact]
    public void Posting_a_debit_lowers_the_balance_and_returns_the_ledger_line_that_explains_it()
    {
        var customer = Customer(100.00m);
        var later = Now.AddMinutes(1);

        var entry = customer.Post(OrderId, LedgerEntryType.Debit, -25.50m, later);

        Assert.Equal(74.50m, customer.Balance);
        Assert.Equal(later, customer.UpdatedAt);
        Assert.Equal(("alice", OrderId, LedgerEntryType.Debit, -25.50m, later),
            (entry.AccountId, entry.OrderId, entry.Type, entry.Amount, entry.CreatedAt));
    }

    [Fact]
    public void Posting_the_refund_of_a_debit_restores_the_balance_exactly()
    {
        var customer = Customer(100.00m);
        var debit = customer.Post(OrderId, LedgerEntryType.Debit, -25.50m, Now);

        var refund = customer.Post(OrderId, LedgerEntryType.Refund, -debit.Amount, Now);

        Assert.Equal(25.50m, refund.Amount);
        Assert.Equal(100.00m, customer.Balance);
    }
}
