namespace EventShop.Sagas.OrderPlacement;

/// <summary>Why a saga failed, as a stable machine-readable code kept on the saga next to its human-readable reason.</summary>
public static class FailureCodes
{
    /// <summary>A step's service said no (funds, frozen, unknown, suspended): its reason says which.</summary>
    public const string StepRejected = "StepRejected";
    public const string StepTimedOut = "StepTimedOut";

    /// <summary>A step's command failed in its service after every retry and went to its error queue.</summary>
    public const string StepFailed = "StepFailed";
    public const string CancelledByOperator = "CancelledByOperator";
}
