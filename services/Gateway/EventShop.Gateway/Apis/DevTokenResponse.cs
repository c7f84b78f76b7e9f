namespace EventShop.Gateway.Apis;

public sealed record DevTokenResponse(string AccessToken, int ExpiresIn);
