using System.Diagnostics;
using EventShop.ServiceDefaults.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace EventShop.IntegrationTests;

/// <summary>A background loop's query makes no trace; the same query inside a request's or a message's trace keeps its span.</summary>
public sealed class UnparentedDatabaseCallFilterTests : IDisposable
{
    // Npgsql's own source name: the filter tells database spans apart by it.
    readonly ActivitySource _npgsql = new(UnparentedDatabaseCallFilter.NpgsqlSourceName);
    readonly ActivitySource _service = new("EventShop.Tests.Service");
    readonly List<Activity> _exported = [];
    readonly TracerProvider _tracing;

    public UnparentedDatabaseCallFilterTests() =>
        _tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(_npgsql.Name, _service.Name)
            .AddProcessor(new UnparentedDatabaseCallFilter())
            .AddInMemoryExporter(_exported)
            .Build()!;

    // Other tests in this assembly run real Npgsql queries in parallel: each test looks for its own spans only.
    [Fact]
    public void When_a_database_call_has_no_parent_Should_not_be_exported()
    {
        var poll = _npgsql.StartActivity("eventshop_orders", ActivityKind.Client);
        poll?.Stop();

        _tracing.ForceFlush();
        Assert.NotNull(poll);
        Assert.DoesNotContain(poll, Exported());
    }

    [Fact]
    public void When_a_database_call_is_part_of_a_trace_Should_be_exported_with_it()
    {
        var request = _service.StartActivity("POST /api/orders", ActivityKind.Server);
        var query = _npgsql.StartActivity("eventshop_orders", ActivityKind.Client);
        query?.Stop();
        request?.Stop();

        _tracing.ForceFlush();
        Assert.Contains(request, Exported());
        Assert.Contains(query, Exported());
    }

    [Fact]
    public void When_another_source_starts_a_trace_Should_be_exported()
    {
        var publish = _service.StartActivity("outbox relay publish", ActivityKind.Producer);
        publish?.Stop();

        _tracing.ForceFlush();
        Assert.Contains(publish, Exported());
    }

    Activity[] Exported()
    {
        lock (_exported)
            return [.. _exported];
    }

    public void Dispose()
    {
        _tracing.Dispose();
        _npgsql.Dispose();
        _service.Dispose();
    }
}
