namespace EventShop.Accounts.Apis;

/// <param name="Author">Who made an <c>Adjustment</c> (the operator token's subject); null on every other entry.</param>
/// <param name="Reason">Why an <c>Adjustment</c> was made; null on every other entry.</param>
public sealed record LedgerEntryResponse(Guid OrderId, string Type, decimal Amount, DateTimeOffset CreatedAt, string? Author, string? Reason);
