using System.Diagnostics.Metrics;

namespace EventShop.Messaging;

/// <summary>The messaging code's own instruments (outbox rows parked, ...), exported with the services' other metrics.</summary>
public static class MessagingMetrics
{
    public const string MeterName = "EventShop.Messaging";

    public static readonly Meter Meter = new(MeterName);

    /// <summary>How long loading a saga waited for its row lock (events for one order queue up behind each other).</summary>
    public static readonly Histogram<double> SagaLockWait = Meter.CreateHistogram<double>("eventshop.saga.lock_wait", "s",
        "Time a saga load waited for SELECT ... FOR UPDATE on its row");

    /// <summary>Two first events for one saga raced: one inserted the row, the other found it there (and is retried).</summary>
    public static readonly Counter<long> SagaInsertConflicts = Meter.CreateCounter<long>("eventshop.saga.insert_conflicts", "{conflict}",
        "Saga inserts that found the row already inserted by a concurrent message");

    /// <summary>Messages an error queue held for a transient failure, delivered again to their queue (ADR 0008 point 9).</summary>
    public static readonly Counter<long> Redelivered = Meter.CreateCounter<long>("eventshop.error_queue.redelivered", "{message}",
        "Messages delivered again from an error queue after a transient failure");
}
