namespace EventShop.Contracts.Accounts;

/// <summary>Compensates <see cref="CreditMerchant"/> against the ledger entry of the order, or voids a credit that has not arrived yet.</summary>
public sealed record ReverseMerchantCredit(Guid OrderId, string MerchantId);
