using System.Diagnostics.Metrics;

namespace EventShop.Messaging;

/// <summary>The messaging code's own instruments (outbox rows parked, ...), exported with the services' other metrics.</summary>
public static class MessagingMetrics
{
    public const string MeterName = "EventShop.Messaging";

    public static readonly Meter Meter = new(MeterName);
}
