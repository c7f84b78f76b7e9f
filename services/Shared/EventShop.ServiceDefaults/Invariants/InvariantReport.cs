namespace EventShop.ServiceDefaults.Invariants;

/// <summary>
/// One service's answer: the checks it can judge on its own data, and the totals over settled orders that the gateway
/// compares with another service's (keyed by merchant, customer or outcome). Orders also names the orders it counts as
/// unsettled, for the others to leave out.
/// </summary>
public sealed record InvariantReport(InvariantCheck[] Checks, Dictionary<string, Dictionary<string, decimal>> Totals, Guid[]? Unsettled = null);
