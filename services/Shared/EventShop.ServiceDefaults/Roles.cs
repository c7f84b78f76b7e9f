namespace EventShop.ServiceDefaults;

public static class Roles
{
    public const string Customer = "customer";
    public const string Operator = "operator";
}
