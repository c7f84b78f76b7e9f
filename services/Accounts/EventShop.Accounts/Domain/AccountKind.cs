namespace EventShop.Accounts.Domain;

public enum AccountKind { Customer, Merchant }
