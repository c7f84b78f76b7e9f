namespace EventShop.IntegrationTests;

/// <summary>A process clock that runs ahead (or behind) of the database's: what must not change any time comparison (ADR 0008).</summary>
sealed class SkewedClock(TimeSpan skew) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + skew;
}
