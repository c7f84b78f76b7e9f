namespace EventShop.LoadTests;

public sealed record LatencySummary(int Count, double P50, double P95, double P99, double Max, double Mean)
{
    public static LatencySummary Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0
            ? new LatencySummary(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN)
            : new LatencySummary(sorted.Count, Stats.Percentile(sorted, 50), Stats.Percentile(sorted, 95), Stats.Percentile(sorted, 99),
                sorted[^1], sorted.Average());
    }
}

public static class Stats
{
    /// <summary>Nearest-rank percentile of an already sorted list (NaN when empty).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percentile)
    {
        if (sorted.Count == 0)
            return double.NaN;
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
