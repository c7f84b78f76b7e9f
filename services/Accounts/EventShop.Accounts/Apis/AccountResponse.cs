using EventShop.Accounts.Domain;

namespace EventShop.Accounts.Apis;

public sealed record AccountResponse(string AccountId, string Kind, decimal Balance, string Status)
{
    public static AccountResponse From(Account account) =>
        new(account.AccountId, account.Kind.ToString().ToLowerInvariant(), account.Balance, account.Status.ToString().ToLowerInvariant());
}
