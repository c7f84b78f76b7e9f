namespace EventShop.Accounts.Apis;

/// <param name="Amount">Signed: positive puts money on the account, negative takes it off.</param>
public sealed record AdjustAccountRequest(decimal? Amount, string? Reason);
