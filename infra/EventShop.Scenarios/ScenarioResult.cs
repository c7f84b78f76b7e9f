namespace EventShop.Scenarios;

public enum Verdict
{
    Passed,
    Failed,

    /// <summary>The system lacks what the scenario requires (fault injection off or not built): nothing was run.</summary>
    Unavailable,
}

/// <param name="Differences">One line per expectation that did not hold, naming the order and expected against actual.</param>
/// <param name="Output">The timeline of every order, as printed.</param>
public sealed record ScenarioResult(string Name, Verdict Verdict, IReadOnlyList<string> Differences, string Output, TimeSpan Elapsed)
{
    public string Summary => Verdict switch
    {
        Verdict.Passed => $"PASS {Name} ({Elapsed.TotalSeconds:0.0} s)",
        Verdict.Unavailable => $"UNAVAILABLE {Name}: {string.Join("; ", Differences)}",
        _ => $"FAIL {Name} ({Elapsed.TotalSeconds:0.0} s)\n" + string.Join("\n", Differences.Select(d => "  - " + d)),
    };
}

/// <summary>What the running system offers, asked once per run.</summary>
/// <param name="Restarts">A supervisor restarts a crashed service (the run command's; not the test fixture's).</param>
public sealed record SystemCapabilities(bool Faults, bool InvariantsApi, bool Restarts)
{
    public string? Missing(IEnumerable<string> requirements)
    {
        var missing = requirements.Select(r => r.ToLowerInvariant() switch
        {
            Capabilities.Faults when !Faults => "fault injection is not available (404 from /api/faults)",
            Capabilities.Restarts when !Restarts => "crashed services are not restarted here (no supervisor)",
            _ => null,
        }).OfType<string>().ToArray();
        return missing.Length == 0 ? null : string.Join("; ", missing);
    }
}
