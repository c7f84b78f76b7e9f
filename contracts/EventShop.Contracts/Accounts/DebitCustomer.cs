namespace EventShop.Contracts.Accounts;

public sealed record DebitCustomer(Guid OrderId, string CustomerId, decimal Amount);
