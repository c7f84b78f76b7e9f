namespace EventShop.Gateway.RateLimiting;

/// <summary>
/// The gateway's limits (docs/security.md, "Limits"). The defaults are production's, fitted to what one deployment settles
/// (docs/benchmark.md: 72-80 orders/s on a 2-core machine shared with its broker and database, 143/s on a faster one):
/// no caller gets more than a person or a shop's client app plausibly sends, and all callers together no more orders
/// than the system can finish, so a surge is answered 429 with Retry-After instead of queueing into minutes of latency.
/// A developer's machine (appsettings.Development.json) lifts them for the benchmark and the tests.
/// </summary>
public sealed class RateLimitingSettings
{
    public const string Section = "RateLimiting";

    /// <summary>Every <c>/api/*</c> request, per caller.</summary>
    public TokenBucketSettings General { get; set; } = new() { TokenLimit = 100, TokensPerPeriod = 50, ReplenishmentPeriod = TimeSpan.FromSeconds(1) };

    /// <summary><c>POST /api/orders</c> per caller, on top of <see cref="General"/>: each order starts a saga, a database write in four services.</summary>
    public TokenBucketSettings OrderSubmission { get; set; } = new() { TokenLimit = 20, TokensPerPeriod = 5, ReplenishmentPeriod = TimeSpan.FromSeconds(1) };

    /// <summary><c>POST /api/orders</c> of all callers together: the capacity of the deployment, not of one caller.</summary>
    public TokenBucketSettings AllOrderSubmissions { get; set; } = new() { TokenLimit = 300, TokensPerPeriod = 150, ReplenishmentPeriod = TimeSpan.FromSeconds(1) };

    /// <summary>Event streams, long-polls and live views one caller may hold open at once (<see cref="Edge.StreamLimits"/>).</summary>
    public int ConcurrentStreamsPerCaller { get; set; } = 10;
}
