using System.Diagnostics;
using OpenTelemetry;

namespace EventShop.ServiceDefaults.Telemetry;

/// <summary>
/// Background loops (the outbox relay's poll, inbox cleanup, the step-timeout sweeper, LISTEN connections) query PostgreSQL
/// outside any request or message, and each such query would be a trace of one span: thousands an hour of an idle system,
/// burying the traces that matter. A database span with no parent is therefore not recorded; one inside a request's or a
/// message's trace is. The loops' own work, when they find some, shows in the traces of the messages they send.
/// </summary>
/// <remarks>
/// A processor rather than a sampler: OpenTelemetry's sampler is not told which ActivitySource a span comes from, and Npgsql
/// names its spans after the database, not after itself. Clearing the recorded flag at start keeps every exporter from
/// exporting the span; the span's metrics (Npgsql's meters) are unaffected.
/// </remarks>
public sealed class UnparentedDatabaseCallFilter : BaseProcessor<Activity>
{
    public const string NpgsqlSourceName = "Npgsql";

    public override void OnStart(Activity data)
    {
        if (data.Source.Name == NpgsqlSourceName && data.Parent is null && data.ParentSpanId == default)
        {
            data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            data.IsAllDataRequested = false;
        }
    }
}
