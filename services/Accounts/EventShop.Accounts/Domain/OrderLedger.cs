namespace EventShop.Accounts.Domain;

/// <summary>The ledger entries of one order: at most one per type (unique index), so a type is either there or not.</summary>
public sealed class OrderLedger(IReadOnlyList<LedgerEntry> entries)
{
    public LedgerEntry? Find(LedgerEntryType type) => entries.SingleOrDefault(x => x.Type == type);

    public bool Has(LedgerEntryType type) => Find(type) is not null;
}
