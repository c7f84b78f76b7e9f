namespace EventShop.Contracts.Accounts;

public sealed record CustomerDebited(Guid OrderId, string CustomerId, decimal Amount);
