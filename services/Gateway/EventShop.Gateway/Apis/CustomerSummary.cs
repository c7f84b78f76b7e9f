using System.Text.Json;

namespace EventShop.Gateway.Apis;

/// <summary>
/// What a client app shows on a customer's home screen, in one call. A part whose service is down or slow is left out and named
/// in <see cref="Missing"/>; an account that does not exist is <c>null</c> but not missing.
/// </summary>
public sealed record CustomerSummary(string CustomerId, JsonElement? Account, JsonElement? Points, JsonElement? RecentOrders, string[] Missing);
