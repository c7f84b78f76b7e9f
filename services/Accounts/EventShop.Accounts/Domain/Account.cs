namespace EventShop.Accounts.Domain;

public enum AccountKind { Customer, Merchant }

public enum AccountStatus { Active, Frozen }

public sealed class Account
{
    public required string AccountId { get; init; }
    public AccountKind Kind { get; init; }
    public decimal Balance { get; private set; }
    public AccountStatus Status { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    public static Account Open(string accountId, AccountKind kind, decimal openingBalance, DateTimeOffset now) =>
        new() { AccountId = accountId, Kind = kind, Balance = openingBalance, Status = AccountStatus.Active, CreatedAt = now, UpdatedAt = now };

    /// <summary>Moves money and returns the ledger line that explains it: a balance never changes without one.</summary>
    public LedgerEntry Post(Guid orderId, LedgerEntryType type, decimal amount, DateTimeOffset now)
    {
        Balance += amount;
        UpdatedAt = now;
        return new LedgerEntry { AccountId = AccountId, OrderId = orderId, Type = type, Amount = amount, CreatedAt = now };
    }
}
