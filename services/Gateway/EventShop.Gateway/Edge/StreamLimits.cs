using System.Threading.RateLimiting;
using EventShop.Gateway.RateLimiting;

namespace EventShop.Gateway.Edge;

/// <summary>
/// A cap on the requests one caller may hold open at once: order event streams, order long-polls and the dashboard's live
/// view. A token bucket counts requests as they start, so it cannot see a caller who opens a few hundred streams slowly
/// and keeps them all; each holds a connection and a task here and a read loop in a service.
/// </summary>
public static class StreamLimits
{
    public static IHostApplicationBuilder AddStreamLimits(this IHostApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(RateLimitingSettings.Section).Get<RateLimitingSettings>() ?? new RateLimitingSettings();
        var perCaller = settings.ConcurrentStreamsPerCaller;
        builder.Services.AddSingleton(new OpenStreams(perCaller, PartitionedRateLimiter.Create<string, string>(caller =>
            RateLimitPartition.GetConcurrencyLimiter(caller, _ => new ConcurrencyLimiterOptions { PermitLimit = perCaller, QueueLimit = 0 }))));
        return builder;
    }

    /// <summary>The limit as configured once at start, and the limiter that enforces it per caller.</summary>
    sealed record OpenStreams(int PerCaller, PartitionedRateLimiter<string> Limiter);

    /// <summary>Call after authentication and authorization: the caller is the token's subject, a refused caller never counts.</summary>
    public static IApplicationBuilder UseStreamLimits(this IApplicationBuilder app)
    {
        var (perCaller, limiter) = app.ApplicationServices.GetRequiredService<OpenStreams>();
        return app.Use(async (context, next) =>
        {
            if (!HoldsOpen(context.Request))
            {
                await next(context);
                return;
            }
            using var lease = limiter.AttemptAcquire(GatewayRateLimiting.CallerOf(context));
            if (!lease.IsAcquired)
            {
                GatewayRateLimiting.Logger(context).LogWarning("Stream limit hit by {Caller} on {Path}: {Limit} already open",
                    GatewayRateLimiting.CallerOf(context), context.Request.Path, perCaller);
                // One of the open ones may end any moment (a long-poll lasts at most a minute): worth asking again soon.
                context.Response.Headers.RetryAfter = "1";
                await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many open streams",
                    detail: $"At most {perCaller} event streams and long-polls may be open at once per caller. "
                        + "Close one, or poll.").ExecuteAsync(context);
                return;
            }
            await next(context);
        });
    }

    /// <summary>The requests that may stay open for up to a minute or for good.</summary>
    static bool HoldsOpen(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method))
            return false;
        var path = request.Path;
        if (path.StartsWithSegments("/dashboard/api/live"))
            return true;
        if (!path.StartsWithSegments("/api/orders", out var rest) || !rest.HasValue)
            return false;
        return rest.Value!.EndsWith("/events", StringComparison.Ordinal)
            || (request.Query.TryGetValue("waitForCompletion", out var wait) && wait.ToString() is { Length: > 0 } seconds && seconds != "0");
    }
}
