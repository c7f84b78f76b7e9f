namespace EventShop.Accounts.Domain;

public enum AccountStatus { Active, Frozen }
