namespace EventShop.Contracts.Accounts;

public sealed record MerchantCredited(Guid OrderId, string MerchantId, decimal Amount);
