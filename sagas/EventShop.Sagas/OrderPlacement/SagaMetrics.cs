using System.Diagnostics.Metrics;

namespace EventShop.Sagas.OrderPlacement;

/// <summary>The saga's own instruments: step durations, compensations and their causes, retries (exported at /metrics and by OTLP).</summary>
public static class SagaMetrics
{
    public const string MeterName = "EventShop.Sagas";

    public static readonly Meter Meter = new(MeterName);

    static readonly Histogram<double> StepDuration = Meter.CreateHistogram<double>("eventshop.saga.step.duration", "s",
        "How long a step or compensation waited for its reply (or until it timed out, failed or was retried)");

    static readonly Counter<long> Compensations = Meter.CreateCounter<long>("eventshop.saga.compensations", "{saga}",
        "Sagas that started compensating, by the step that failed and the cause");

    static readonly Counter<long> Retries = Meter.CreateCounter<long>("eventshop.saga.retries", "{command}",
        "Commands of a step or compensation sent again, by state and by whom (timeout or operator)");

    static readonly Counter<long> LateCompensations = Meter.CreateCounter<long>("eventshop.saga.compensation.late_replies", "{saga}",
        "Sagas in CompensationFailed finished by the late reply of the compensation they gave up on, by that compensation's state");

    public static void StepEnded(string state, TimeSpan duration) =>
        StepDuration.Record(Math.Max(0, duration.TotalSeconds), new KeyValuePair<string, object?>("eventshop.saga.state", state));

    public static void Compensation(string step, string cause) =>
        Compensations.Add(1, new KeyValuePair<string, object?>("eventshop.saga.state", step), new KeyValuePair<string, object?>("eventshop.saga.cause", cause));

    public static void Retry(string state, string by) =>
        Retries.Add(1, new KeyValuePair<string, object?>("eventshop.saga.state", state), new KeyValuePair<string, object?>("eventshop.saga.retried_by", by));

    public static void LateCompensationReply(string state) =>
        LateCompensations.Add(1, new KeyValuePair<string, object?>("eventshop.saga.state", state));
}
