namespace EventShop.Points.Domain;

public enum PointsEntryType
{
    Accrual,
    Reversal,

    /// <summary>The reversal arrived before the accrual: a late accrual is rejected.</summary>
    AccrualVoided,
}
