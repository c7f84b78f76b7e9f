namespace EventShop.Contracts;

/// <summary>The reasons a step can be rejected with; they end up as the order's failureReason.</summary>
public static class RejectionReasons
{
    public const string InsufficientFunds = "InsufficientFunds";
    public const string AccountFrozen = "AccountFrozen";
    public const string AccountNotFound = "AccountNotFound";
    public const string WrongAccountKind = "WrongAccountKind";
    public const string MemberSuspended = "MemberSuspended";

    /// <summary>The step arrived after the saga had already compensated it (for example after a timeout).</summary>
    public const string Voided = "Voided";
}
