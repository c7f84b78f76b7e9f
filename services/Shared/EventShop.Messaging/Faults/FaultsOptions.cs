namespace EventShop.Messaging.Faults;

/// <summary>Fault injection (ADR 0014): off unless <c>Faults__Enabled=true</c>; then the filter, the hook and the routes exist.</summary>
public sealed class FaultsOptions
{
    public const string Section = "Faults";

    public bool Enabled { get; set; }

    /// <summary>How long a replica uses the rules it read before reading them again; a rule added or deleted through this replica applies at once.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(1);
}
