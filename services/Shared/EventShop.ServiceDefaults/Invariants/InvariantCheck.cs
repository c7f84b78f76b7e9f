namespace EventShop.ServiceDefaults.Invariants;

/// <summary>One verdict of the continuous invariant check: its name, whether it holds, and what was found (ADR 0013).</summary>
public sealed record InvariantCheck(string Name, bool Ok, string Detail);
