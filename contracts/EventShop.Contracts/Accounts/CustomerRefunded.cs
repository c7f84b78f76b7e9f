namespace EventShop.Contracts.Accounts;

public sealed record CustomerRefunded(Guid OrderId, string CustomerId, decimal Amount);
