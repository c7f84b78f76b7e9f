using EventShop.Contracts;

namespace EventShop.Accounts.Domain;

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

    /// <summary>The ledger line that explains the opening balance: money enters the system only here.</summary>
    public LedgerEntry OpeningEntry() =>
        new() { AccountId = AccountId, OrderId = Guid.Empty, Type = LedgerEntryType.Opening, Amount = Balance, CreatedAt = CreatedAt };

    /// <summary>Moves money and returns the ledger line that explains it: a balance never changes without one.</summary>
    public LedgerEntry Post(Guid orderId, LedgerEntryType type, decimal amount, DateTimeOffset now)
    {
        Balance += amount;
        UpdatedAt = now;
        return new LedgerEntry { AccountId = AccountId, OrderId = orderId, Type = type, Amount = amount, CreatedAt = now };
    }

    /// <summary>
    /// Why an operator may not adjust this balance by <paramref name="amount"/>, or null when they may: a correction never
    /// leaves a balance below zero, whatever the account's kind or status (a frozen account can still be corrected).
    /// </summary>
    public string? RejectAdjustment(decimal amount) =>
        Balance + amount < 0 ? $"would make the balance {Balance + amount:0.00} (it is {Balance:0.00}); a balance may not go below zero" : null;

    /// <summary>
    /// An operator's correction: moves the balance and returns the ledger line that explains it, with who made it and why.
    /// It belongs to no order, so money enters or leaves the system here, as it does at opening.
    /// </summary>
    public LedgerEntry Adjust(decimal amount, string author, string reason, string idempotencyKey, DateTimeOffset now)
    {
        // PostgreSQL keeps microseconds, .NET ticks are 100 ns: the first answer must say what a retry reads back.
        now = new DateTimeOffset(now.Ticks - now.Ticks % 10, now.Offset);
        Balance += amount;
        UpdatedAt = now;
        return new LedgerEntry
        {
            AccountId = AccountId, OrderId = Guid.Empty, Type = LedgerEntryType.Adjustment, Amount = amount, CreatedAt = now,
            Author = author, Reason = reason, IdempotencyKey = idempotencyKey,
        };
    }

    /// <summary>
    /// Why <paramref name="customer"/> may not pay <paramref name="amount"/> for the order of <paramref name="ledger"/>, or null
    /// when it may. A debit already on the ledger is accepted again (a repeated command gets the same answer and moves
    /// nothing), whatever the status or balance is now; a debit the saga has already undone (voided) is never accepted.
    /// </summary>
    public static string? RejectDebit(Account? customer, OrderLedger ledger, decimal amount)
    {
        if (ledger.Has(LedgerEntryType.DebitVoided))
            return RejectionReasons.Voided;
        if (customer is null)
            return RejectionReasons.AccountNotFound;
        if (customer.Kind != AccountKind.Customer)
            return RejectionReasons.WrongAccountKind;
        if (ledger.Has(LedgerEntryType.Debit))
            return null;
        if (customer.Status == AccountStatus.Frozen)
            return RejectionReasons.AccountFrozen;
        if (customer.Balance < amount)
            return RejectionReasons.InsufficientFunds;
        return null;
    }

    /// <summary>
    /// Why <paramref name="merchant"/> may not be credited for the order of <paramref name="ledger"/>, or null when it may.
    /// A credit needs no balance check; like a debit, one already on the ledger is accepted again and a voided one never.
    /// </summary>
    public static string? RejectCredit(Account? merchant, OrderLedger ledger)
    {
        if (ledger.Has(LedgerEntryType.CreditVoided))
            return RejectionReasons.Voided;
        if (merchant is null)
            return RejectionReasons.AccountNotFound;
        if (merchant.Kind != AccountKind.Merchant)
            return RejectionReasons.WrongAccountKind;
        if (ledger.Has(LedgerEntryType.Credit))
            return null;
        // Freezing is an operator's action: a credit committed just before it is ordered before it, as if it came first.
        if (merchant.Status == AccountStatus.Frozen)
            return RejectionReasons.AccountFrozen;
        return null;
    }
}
