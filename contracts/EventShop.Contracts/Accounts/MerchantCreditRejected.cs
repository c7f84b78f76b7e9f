namespace EventShop.Contracts.Accounts;

public sealed record MerchantCreditRejected(Guid OrderId, string MerchantId, string Reason);
