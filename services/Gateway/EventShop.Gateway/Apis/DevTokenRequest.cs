namespace EventShop.Gateway.Apis;

public sealed record DevTokenRequest(string? Subject, string[]? Roles);
