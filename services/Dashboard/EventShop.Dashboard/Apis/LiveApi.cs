using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Json;
using EventShop.Dashboard.Failures;
using EventShop.Dashboard.Live;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EventShop.Dashboard.Apis;

/// <param name="DevTokens">The page may ask the gateway's <c>/dev/token</c> for a token by itself: in Development only.</param>
/// <param name="TraceUrl">Where a trace id opens in the telemetry dashboard, <c>{traceId}</c> replaced; null when none is configured.</param>
public sealed record DashboardConfig(bool DevTokens, string? TraceUrl);

/// <summary>
/// The operator console's own routes, under the page's prefix so the gateway's one dashboard route carries them: the page's
/// settings, and the live view as server-sent events. The browser never polls: this service looks at the saga host and the
/// failed messages every <c>Dashboard:Live:Interval</c> (2 s) for each open page and pushes a snapshot only when it changed.
/// </summary>
public static class LiveApi
{
    /// <summary>Below the gateway's 30 s activity timeout for the dashboard cluster, so a quiet stream is not cut.</summary>
    static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static IEndpointRouteBuilder MapLiveApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/dashboard/api").WithTags("Dashboard");
        api.MapGet("/config", GetConfig).AllowAnonymous();
        api.MapGet("/live", Live).RequireAuthorization(Policies.Operator);
        return app;
    }

    static Ok<DashboardConfig> GetConfig(IConfiguration configuration, IHostEnvironment environment) =>
        TypedResults.Ok(new DashboardConfig(environment.IsDevelopment() && configuration.GetValue("Dashboard:DevTokens", true),
            configuration["Dashboard:TraceUrl"] is { Length: > 0 } url ? url : null));

    static ServerSentEventsResult<string> Live(Guid? orderId, HttpContext http, ClaimsPrincipal user, ServiceApis services, ErrorQueues errorQueues,
        IConfiguration configuration, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, TimeProvider clock, ILogger<LiveView> logger,
        CancellationToken cancellationToken)
    {
        // Watching is not traffic (ADR 0011): the stream records no trace, and the calls it makes carry an unsampled parent, so
        // the saga host and the services record none either, whether or not anything changed.
        if (Activity.Current is { } request)
        {
            request.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            request.IsAllDataRequested = false;
        }

        var view = new LiveView(services, errorQueues, http.Request.Headers.Authorization.ToString(), orderId, logger);
        var interval = configuration.GetValue("Dashboard:Live:Interval", TimeSpan.FromSeconds(2));
        var expires = long.TryParse(user.FindFirstValue("exp"), out var exp) ? DateTimeOffset.FromUnixTimeSeconds(exp) : DateTimeOffset.MaxValue;
        return TypedResults.ServerSentEvents(Changes(view, interval, expires, json.Value.SerializerOptions, clock, logger, cancellationToken));
    }

    static async IAsyncEnumerable<SseItem<string>> Changes(LiveView view, TimeSpan interval, DateTimeOffset expires, JsonSerializerOptions options,
        TimeProvider clock, ILogger logger, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, clock);
        string? last = null;
        var lastSent = clock.GetUtcNow();
        do
        {
            if (clock.GetUtcNow() >= expires)
            {
                yield return new SseItem<string>("{}", "expired");
                yield break;
            }

            LiveSnapshot? snapshot = null;
            try
            {
                snapshot = await view.ReadAsync(cancellationToken);
            }
            catch (UnauthorizedAccessException exception)
            {
                logger.LogInformation("Live view ended: {Reason}", exception.Message);
            }
            if (snapshot is null)
            {
                yield return new SseItem<string>("{}", "expired");
                yield break;
            }

            var text = JsonSerializer.Serialize(snapshot, options);
            if (text != last)
            {
                last = text;
                lastSent = clock.GetUtcNow();
                yield return new SseItem<string>(text, "snapshot") { ReconnectionInterval = TimeSpan.FromSeconds(2) };
            }
            else if (clock.GetUtcNow() - lastSent >= KeepAlive)
            {
                lastSent = clock.GetUtcNow();
                yield return new SseItem<string>("{}", "keep-alive");
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }
}
