namespace EventShop.Gateway.RateLimiting;

/// <summary>
/// Token buckets per caller (JWT subject, or client IP when anonymous). The defaults are sized for the load benchmark
/// (~200 orders/s from a few subjects) and the shared test fixture (one operator subject for many calls); a deployment facing
/// the public tunes them down through <c>RateLimiting:*</c>.
/// </summary>
public sealed class RateLimitingSettings
{
    public const string Section = "RateLimiting";

    /// <summary>Every <c>/api/*</c> request.</summary>
    public TokenBucketSettings General { get; set; } = new() { TokenLimit = 2000, TokensPerPeriod = 1000, ReplenishmentPeriod = TimeSpan.FromSeconds(1) };

    /// <summary><c>POST /api/orders</c>, on top of <see cref="General"/>: each order starts a saga, a database write in four services.</summary>
    public TokenBucketSettings OrderSubmission { get; set; } = new() { TokenLimit = 500, TokensPerPeriod = 300, ReplenishmentPeriod = TimeSpan.FromSeconds(1) };
}
