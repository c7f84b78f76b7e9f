using EventShop.Accounts.Domain;

namespace EventShop.Accounts.Apis;

/// <param name="Balance">The account's balance now (after this adjustment, and after anything that moved it since).</param>
public sealed record AdjustmentResponse(string AccountId, decimal Amount, string Author, string Reason, DateTimeOffset CreatedAt, decimal Balance)
{
    public static AdjustmentResponse From(LedgerEntry entry, decimal balance) =>
        new(entry.AccountId, entry.Amount, entry.Author!, entry.Reason!, entry.CreatedAt, balance);
}
