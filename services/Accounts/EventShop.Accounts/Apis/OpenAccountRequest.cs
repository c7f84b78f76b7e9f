namespace EventShop.Accounts.Apis;

public sealed record OpenAccountRequest(string? AccountId, string? Kind, decimal? Balance);
