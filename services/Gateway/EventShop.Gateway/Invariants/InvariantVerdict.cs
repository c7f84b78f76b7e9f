using EventShop.ServiceDefaults.Invariants;

namespace EventShop.Gateway.Invariants;

/// <summary>The answer of <c>GET /api/invariants</c>: when the check last ran, and each check's verdict.</summary>
public sealed record InvariantVerdict(DateTimeOffset CheckedAt, bool Ok, InvariantCheck[] Checks);
