namespace EventShop.Points.Apis;

public sealed record MemberResponse(string CustomerId, long Balance, string Status);
