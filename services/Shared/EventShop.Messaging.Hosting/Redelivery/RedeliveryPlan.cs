using System.Globalization;
using System.Text;

namespace EventShop.Messaging.Hosting.Redelivery;

public enum RedeliveryVerdict
{
    /// <summary>Failed for a transient cause, budget left, waited long enough: back to the queue it failed on.</summary>
    DeliverAgain,

    /// <summary>Failed for a transient cause, budget left, not yet waited long enough.</summary>
    Wait,

    /// <summary>Failed for a cause that does not pass by itself, dead-lettered by the broker, or its budget spent.</summary>
    ForAnOperator,
}

/// <summary>What to do with one message of an error queue, from its headers alone (ADR 0008).</summary>
public static class RedeliveryPlan
{
    /// <summary>How often the redeliverer has delivered this message again; travels with the message through each failure.</summary>
    public const string RedeliveriesHeader = "EventShop-Redeliveries";

    /// <param name="headers">The message's headers as the broker hands them over (strings as UTF-8 bytes).</param>
    /// <param name="waited">How long this process has seen the message in the error queue (its own monotonic clock:
    /// the failure's timestamp is another process's clock, ADR 0008 point 1).</param>
    public static (RedeliveryVerdict Verdict, TimeSpan Wait) Decide(IDictionary<string, object?>? headers, TimeSpan waited, ErrorQueueRedeliveryOptions options)
    {
        if (Text(headers, "MT-Fault-ExceptionType") != TransientFailureException.TypeName)
            return (RedeliveryVerdict.ForAnOperator, TimeSpan.Zero);
        var redeliveries = Redeliveries(headers);
        if (redeliveries >= options.MaxRedeliveries)
            return (RedeliveryVerdict.ForAnOperator, TimeSpan.Zero);
        var wait = options.DelayBefore(redeliveries) - waited;
        return wait <= TimeSpan.Zero ? (RedeliveryVerdict.DeliverAgain, TimeSpan.Zero) : (RedeliveryVerdict.Wait, wait);
    }

    public static int Redeliveries(IDictionary<string, object?>? headers) =>
        int.TryParse(Text(headers, RedeliveriesHeader), NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;

    /// <summary>
    /// The headers a redelivered message carries: its own, without the fault MassTransit recorded (a new failure records its
    /// own) and without the broker's dead-letter history, and with one more redelivery counted.
    /// </summary>
    public static Dictionary<string, object?> HeadersForRedelivery(IDictionary<string, object?>? headers)
    {
        var kept = (headers ?? new Dictionary<string, object?>())
            .Where(h => !h.Key.StartsWith("MT-Fault-", StringComparison.Ordinal) && h.Key != "MT-Reason" && !h.Key.StartsWith("x-", StringComparison.Ordinal))
            .ToDictionary(h => h.Key, h => h.Value, StringComparer.Ordinal);
        kept[RedeliveriesHeader] = Redeliveries(headers) + 1;
        return kept;
    }

    static string? Text(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            null => null,
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        } : null;
}
