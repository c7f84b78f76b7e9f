namespace EventShop.Contracts.Accounts;

public sealed record MerchantCreditReversed(Guid OrderId, string MerchantId, decimal Amount);
