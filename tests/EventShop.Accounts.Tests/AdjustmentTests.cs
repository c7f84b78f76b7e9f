using EventShop.Accounts.Domain;

namespace EventShop.Accounts.Tests;

/// <summary>An operator's correction of a balance (Account.RejectAdjustment, Account.Adjust): a ledger entry with its author and reason.</summary>
public sealed class AdjustmentTests
{
    static readonly DateTimeOffset Now = new(2026, 12, 3, 0, 0, 0, TimeSpan.Zero);

    static Account Account(decimal balance, AccountKind kind = AccountKind.Customer) => Domain.Account.Open("alice", kind, balance, Now);

    [Theory]
    [InlineData(10.00, 5.00)]
    [InlineData(10.00, -10.00)]
    [InlineData(0.00, 0.01)]
    public void When_the_balance_stays_at_or_above_zero_Should_accept(decimal balance, decimal amount)
    {
        Assert.Null(Account(balance).RejectAdjustment(amount));
    }

    [Theory]
    [InlineData(AccountKind.Customer)]
    [InlineData(AccountKind.Merchant)]
    public void When_the_balance_would_go_below_zero_Should_reject_naming_both_balances(AccountKind kind)
    {
        var rejection = Account(10.00m, kind).RejectAdjustment(-10.01m);

        Assert.Equal("would make the balance -0.01 (it is 10.00); a balance may not go below zero", rejection);
    }

    [Fact]
    public void When_the_account_is_frozen_Should_still_accept_a_correction()
    {
        var account = Account(10.00m);
        account.Status = AccountStatus.Frozen;

        Assert.Null(account.RejectAdjustment(-3.00m));
    }

    [Fact]
    public void When_adjusted_Should_return_an_entry_of_no_order_with_its_author_reason_and_key()
    {
        var account = Account(10.00m);
        var later = Now.AddMinutes(5);

        var entry = account.Adjust(-2.50m, "ops-jane", "double refund of order 17", "key-1", later);

        Assert.Equal(("alice", Guid.Empty, LedgerEntryType.Adjustment, -2.50m, later, "ops-jane", "double refund of order 17", "key-1"),
            (entry.AccountId, entry.OrderId, entry.Type, entry.Amount, entry.CreatedAt, entry.Author, entry.Reason, entry.IdempotencyKey));
        Assert.Equal((7.50m, later), (account.Balance, account.UpdatedAt));
    }

    [Fact]
    public void When_adjusted_Should_keep_the_time_to_the_microsecond_as_the_database_does()
    {
        var entry = Account(10.00m).Adjust(1.00m, "ops", "r", "k", Now.AddTicks(12_345_677));

        Assert.Equal(Now.AddTicks(12_345_670), entry.CreatedAt);
    }

    [Fact]
    public void When_adjusted_up_and_down_Should_keep_the_balance_equal_to_the_sum_of_the_ledger()
    {
        var account = Account(100m);
        var ledger = new List<LedgerEntry> { account.OpeningEntry() };

        ledger.Add(account.Post(Guid.NewGuid(), LedgerEntryType.Debit, -30m, Now));
        ledger.Add(account.Adjust(12.25m, "ops", "goodwill", "k1", Now));
        ledger.Add(account.Adjust(-0.25m, "ops", "rounding", "k2", Now));

        Assert.Equal(82.00m, account.Balance);
        Assert.Equal(account.Balance, ledger.Sum(x => x.Amount));
    }
}
