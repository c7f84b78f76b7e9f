namespace EventShop.Scenarios;

/// <summary>
/// The order's <c>failureCode</c> as the API contract names it. The Orders API carries it; for an order cancelled before it
/// did (the field is null), the code is read from the saga's failure reason ("Merchant credit rejected: AccountFrozen" is MerchantFrozen); the output says when it was.
/// </summary>
public static class FailureCodes
{
    public const string StepTimedOut = "StepTimedOut";
    public const string StepFailed = "StepFailed";

    public static string? FromReason(string? reason)
    {
        if (string.IsNullOrEmpty(reason))
            return null;
        if (reason.Contains("timed out", StringComparison.Ordinal))
            return StepTimedOut;
        if (reason.EndsWith(" failed", StringComparison.Ordinal) || reason.Contains(" failed:", StringComparison.Ordinal))
            return StepFailed;
        var colon = reason.LastIndexOf(": ", StringComparison.Ordinal);
        var code = colon < 0 ? reason : reason[(colon + 2)..].Trim();
        if (reason.StartsWith("Merchant credit rejected", StringComparison.Ordinal))
            return code switch { "AccountFrozen" => "MerchantFrozen", "AccountNotFound" => "MerchantNotFound", _ => code };
        return code;
    }
}
