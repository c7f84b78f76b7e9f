namespace EventShop.Messaging;

/// <summary>
/// How long a background loop (the outbox relay, the Orders status listener) waits after failing again: doubling from
/// <c>first</c>, at most <c>max</c>, so a broker or database that is down is neither hammered nor waited for long once back.
/// </summary>
public static class RetryBackoff
{
    public static TimeSpan After(int consecutiveFailures, TimeSpan first, TimeSpan max)
    {
        // The exponent is capped too: past a few doublings the cap decides anyway, and 2^n must not overflow.
        var delay = first * Math.Pow(2, Math.Clamp(consecutiveFailures - 1, 0, 16));
        return delay < max ? delay : max;
    }
}
