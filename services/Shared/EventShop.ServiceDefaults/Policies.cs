namespace EventShop.ServiceDefaults;

public static class Policies
{
    public const string Operator = "operator";
    public const string CustomerOrOperator = "customer-or-operator";
}
