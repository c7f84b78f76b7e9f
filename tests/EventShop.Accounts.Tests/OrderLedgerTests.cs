using EventShop.Accounts.Domain;

namespace EventShop.Accounts.Tests;

public sealed class OrderLedgerTests
{
    [Fact]
    public void Finds_the_one_entry_of_a_type_and_nothing_for_a_type_not_posted()
    {
        var orderId = Guid.NewGuid();
        var debit = new LedgerEntry { AccountId = "alice", OrderId = orderId, Type = LedgerEntryType.Debit, Amount = -10m };
        var ledger = new OrderLedger([debit]);

        Assert.Same(debit, ledger.Find(LedgerEntryType.Debit));
        Assert.True(ledger.Has(LedgerEntryType.Debit));
        Assert.Null(ledger.Find(LedgerEntryType.Refund));
        Assert.False(ledger.Has(LedgerEntryType.DebitVoided));
    }
}
