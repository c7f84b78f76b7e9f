namespace EventShop.Contracts.Points;

/// <summary>Compensates <see cref="AccruePoints"/>, or voids an accrual that has not arrived yet.</summary>
public sealed record ReversePointsAccrual(Guid OrderId, string CustomerId);
