namespace EventShop.Sagas.OrderPlacement;

/// <summary>
/// Why a saga failed, as a stable machine-readable code kept on the saga next to its human-readable reason and carried to
/// the order (<c>failureCode</c> in the Orders API). A rejection is named by its reason, from the customer's side: a frozen
/// or unknown account on the credit step is the merchant's.
/// </summary>
public static class FailureCodes
{
    public const string StepTimedOut = "StepTimedOut";

    /// <summary>A step's command failed in its service after every retry and went to its error queue.</summary>
    public const string StepFailed = "StepFailed";
    public const string CancelledByOperator = "CancelledByOperator";

    /// <summary>A rejection without a reason (never sent by our services).</summary>
    public const string StepRejected = "StepRejected";

    /// <summary><c>InsufficientFunds</c>, <c>AccountFrozen</c>, <c>AccountNotFound</c>, ...: the customer's account said no.</summary>
    public static string DebitRejected(string? reason) => Named(reason);

    public static string CreditRejected(string? reason) => reason switch
    {
        "AccountFrozen" => "MerchantFrozen",
        "AccountNotFound" => "MerchantNotFound",
        _ => Named(reason),
    };

    /// <summary><c>MemberSuspended</c>, ...: the loyalty member said no.</summary>
    public static string AccrualRejected(string? reason) => Named(reason);

    static string Named(string? reason) => string.IsNullOrWhiteSpace(reason) ? StepRejected : reason;
}
