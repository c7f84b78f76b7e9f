namespace EventShop.ServiceDefaults.Invariants;

/// <summary>
/// The cut the gateway asks each service to answer for (ADR 0013): orders named in <see cref="Unsettled"/>, and orders with
/// anything recorded after <see cref="SettledBefore"/>, are in flight and left out of the totals. Orders answers first and
/// says which orders are unsettled; the others are then asked with its list.
/// </summary>
public sealed record InvariantsRequest(DateTimeOffset? SettledBefore, Guid[]? Unsettled);
