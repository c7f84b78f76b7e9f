namespace EventShop.Accounts.Apis;

public sealed record LedgerEntryResponse(Guid OrderId, string Type, decimal Amount, DateTimeOffset CreatedAt);
