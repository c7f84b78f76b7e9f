namespace EventShop.Gateway.Apis;

public sealed class CompositeReadSettings
{
    public const string Section = "CompositeRead";

    /// <summary>How long each part may take: a summary that waits for a sick service is worse than one with a part missing.</summary>
    public TimeSpan PartTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
