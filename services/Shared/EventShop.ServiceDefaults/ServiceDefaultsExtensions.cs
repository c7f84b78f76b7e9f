using System.Text.Json.Serialization;
using EventShop.ServiceDefaults.Errors;
using EventShop.ServiceDefaults.Health;
using EventShop.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace EventShop.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    public const string LiveTag = "live";

    /// <summary>Telemetry, health checks, problem-details errors and resilient HTTP clients, the same in every service.</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.ApplyProfile();
        builder.ConfigureLogging();
        builder.ConfigureOpenTelemetry();

        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        builder.AddProblemResponses();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler());
        return builder;
    }

    static void ConfigureLogging(this IHostApplicationBuilder builder)
    {
        // Every log line carries the trace and span ids, so one order's logs can be found across all services.
        builder.Logging.Configure(options =>
            options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        builder.Logging.AddStartupHealthLogFilter();
        // The standard resilience handler, on every HttpClient (the OTLP exporter's too), logs each attempt at Information:
        // one line per export batch and per internal call. Retries and failures are Warning and stay.
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        if (builder.Configuration.GetValue("Logging:Json", true))
        {
            builder.Logging.AddJsonConsole(options =>
            {
                options.IncludeScopes = true;
                options.TimestampFormat = "O";
            });
        }
    }

    static void ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            // OTEL_SERVICE_NAME (set by every launcher: script, AppHost, compose, tests) wins, so the dashboard links telemetry to its resource.
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                // Pulled by a scraper at /metrics, besides the OTLP push when an endpoint is configured.
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                // Set here, not left to OTEL_TRACES_SAMPLER: the Aspire AppHost sets that to always_on, which records a span
                // even under a parent that said "not sampled", and the polling that marks itself so (the operator console's
                // live view, the gateway's invariant runs) made a trace in the services it asks every few seconds (ADR 0011).
                .SetSampler(new ParentBasedSampler(new AlwaysOnSampler()))
                .AddSource(builder.Environment.ApplicationName)
                .AddAspNetCoreInstrumentation(options =>
                    options.Filter = context => !IsHealthProbe(context.Request.Path.Value) && !IsWatchStream(context.Request.Path.Value))
                // Health probes (YARP's every 10 s, the launchers' while waiting) are polling, not traffic.
                .AddHttpClientInstrumentation(options => options.FilterHttpRequestMessage = request =>
                    !IsHealthProbe(request.RequestUri?.AbsolutePath) && !IsWatchStream(request.RequestUri?.AbsolutePath))
                .AddProcessor(new UnparentedDatabaseCallFilter()));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
    }

    static bool IsHealthProbe(string? path) => path is "/health" or "/alive" or "/metrics";

    /// <summary>
    /// The operator console's live view (a stream held open for as long as the page is): watching, not traffic, so neither the
    /// gateway that forwards it nor the dashboard that serves it records a trace (ADR 0011, ADR 0016).
    /// </summary>
    static bool IsWatchStream(string? path) => path is "/dashboard/api/live";

    /// <summary>
    /// A service's middleware, first thing after <c>Build()</c>: problem-details errors around everything, then identity and
    /// authorization (called here so they run inside the error pipeline, whose status-code pages give their 401/403 a body),
    /// then the JSON-only rule for request bodies.
    /// </summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.UseProblemResponses();
        var services = app.Services.GetRequiredService<IServiceProviderIsService>();
        if (services.IsService(typeof(IAuthenticationSchemeProvider)))
            app.UseAuthentication();
        if (services.IsService(typeof(IAuthorizationHandlerProvider)))
            app.UseAuthorization();
        app.UseJsonRequestBodies();
        return app;
    }

    /// <summary>
    /// <c>/health</c>: ready to serve (database and broker reachable). <c>/alive</c>: the process is running. <c>/metrics</c>:
    /// Prometheus text for a scraper on the services' network. The gateway is not a route to any service's <c>/metrics</c>, and
    /// its own answers only callers on the loopback interface when <c>Metrics:LoopbackOnly</c> is set (the public edge).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthStatus }).AllowAnonymous();
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag) }).AllowAnonymous();
        var metrics = app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        if (app.Configuration.GetValue("Metrics:LoopbackOnly", false))
        {
            metrics.AddEndpointFilter((context, next) =>
                context.HttpContext.Connection.RemoteIpAddress is { } caller && System.Net.IPAddress.IsLoopback(caller)
                    ? next(context)
                    : ValueTask.FromResult<object?>(TypedResults.NotFound()));
        }
        return app;
    }

    static Task WriteHealthStatus(HttpContext context, HealthReport report)
    {
        StartupHealthLogFilter.Observe(report.Status);
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(report.Status.ToString());
    }
}
