namespace EventShop.Contracts.Accounts;

/// <summary>Compensates <see cref="DebitCustomer"/>: returns exactly what the ledger says was debited for the order, or voids a debit that has not arrived yet.</summary>
public sealed record RefundCustomer(Guid OrderId, string CustomerId);
