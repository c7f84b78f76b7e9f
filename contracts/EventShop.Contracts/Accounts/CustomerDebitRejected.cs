namespace EventShop.Contracts.Accounts;

public sealed record CustomerDebitRejected(Guid OrderId, string CustomerId, string Reason);
