namespace EventShop.Messaging.Faults;

/// <summary>
/// A fault to inject into one consumed message type of one service (ADR 0014). Stored in that service's own database
/// (<c>messaging.fault_rules</c>), so every replica sees it, with how often it fired across all of them.
/// </summary>
public sealed record FaultRule(
    Guid Id,
    string Service,
    string MessageType,
    string Action,
    string? CrashPoint,
    int? DelayMs,
    string? CustomerId,
    int Times,
    int Fired,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastFiredAt);

public static class FaultActions
{
    public const string Fail = "fail";
    public const string Delay = "delay";
    public const string Duplicate = "duplicate";
    public const string DropReply = "drop-reply";
    public const string Crash = "crash";

    public static readonly string[] All = [Fail, Delay, Duplicate, DropReply, Crash];
}

public static class CrashPoints
{
    /// <summary>The handler's writes are sent, the transaction is not committed: nothing happened.</summary>
    public const string BeforeCommit = "before-commit";

    /// <summary>Committed; the outbox rows are in the table, nothing is published yet: the relay publishes them after the restart.</summary>
    public const string AfterCommit = "after-commit";

    /// <summary>The broker confirmed the outbox rows, which are not deleted yet: the relay sends them again after the restart.</summary>
    public const string AfterPublish = "after-publish";

    /// <summary>Everything committed and published, the consumed message not acknowledged: the broker delivers it again.</summary>
    public const string BeforeAck = "before-ack";

    public static readonly string[] All = [BeforeCommit, AfterCommit, AfterPublish, BeforeAck];
}

/// <summary>What a <c>fail</c> rule throws from the handler: retried like any failure, then the error queue.</summary>
public sealed class InjectedFaultException(Guid ruleId, string messageType)
    : Exception($"Fault rule {ruleId} failed the handling of {messageType}")
{
    public Guid RuleId { get; } = ruleId;
}
