namespace EventShop.Contracts.Accounts;

public sealed record CreditMerchant(Guid OrderId, string MerchantId, decimal Amount);
