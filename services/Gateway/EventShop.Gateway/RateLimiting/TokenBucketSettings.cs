namespace EventShop.Gateway.RateLimiting;

public sealed class TokenBucketSettings
{
    /// <summary>The largest burst a caller may send.</summary>
    public int TokenLimit { get; set; }

    /// <summary>The sustained rate, together with <see cref="ReplenishmentPeriod"/>.</summary>
    public int TokensPerPeriod { get; set; }

    public TimeSpan ReplenishmentPeriod { get; set; }
}
