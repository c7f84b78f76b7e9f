using EventShop.Accounts.Domain;

namespace EventShop.Accounts.Tests;

/// <summary>Account.OpeningEntry: the opening balance is on the ledger, so a balance is always the sum of its entries.</summary>
public sealed class OpeningEntryTests
{
    static readonly DateTimeOffset Now = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void When_an_account_opens_with_a_balance_Should_explain_it_with_one_opening_entry_of_no_order()
    {
        var account = Account.Open("alice", AccountKind.Customer, 100.25m, Now);

        var opening = account.OpeningEntry();

        Assert.Equal(("alice", Guid.Empty, LedgerEntryType.Opening, 100.25m, Now),
            (opening.AccountId, opening.OrderId, opening.Type, opening.Amount, opening.CreatedAt));
    }

    [Fact]
    public void When_money_moves_after_opening_Should_keep_the_balance_equal_to_the_sum_of_the_ledger()
    {
        var account = Account.Open("alice", AccountKind.Customer, 100m, Now);
        var ledger = new List<LedgerEntry> { account.OpeningEntry() };

        ledger.Add(account.Post(Guid.NewGuid(), LedgerEntryType.Debit, -30.50m, Now));
        ledger.Add(account.Post(Guid.NewGuid(), LedgerEntryType.Refund, 10m, Now));

        Assert.Equal(79.50m, account.Balance);
        Assert.Equal(account.Balance, ledger.Sum(x => x.Amount));
    }
}
