using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace EventShop.Gateway.RateLimiting;

public static class GatewayRateLimiting
{
    /// <summary>Named in the <c>orders-submit</c> route of the reverse proxy configuration.</summary>
    public const string OrderSubmissionPolicy = "order-submission";

    public static IHostApplicationBuilder AddGatewayRateLimiting(this IHostApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(RateLimitingSettings.Section).Get<RateLimitingSettings>() ?? new RateLimitingSettings();

        builder.Services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    context.Request.Path.StartsWithSegments("/api")
                        ? RateLimitPartition.GetTokenBucketLimiter(CallerOf(context), _ => Options(settings.General))
                        // Health probes, the API reference and /dev/token are not the public API.
                        : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    IsOrderSubmission(context.Request)
                        ? RateLimitPartition.GetTokenBucketLimiter("all-callers", _ => Options(settings.AllOrderSubmissions))
                        : RateLimitPartition.GetNoLimiter("")));

            options.AddPolicy(OrderSubmissionPolicy, context =>
                RateLimitPartition.GetTokenBucketLimiter(CallerOf(context), _ => Options(settings.OrderSubmission)));

            options.OnRejected = RejectAsync;
        });
        return builder;
    }

    static bool IsOrderSubmission(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Path.Equals("/api/orders", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The authenticated subject (the signature was checked, so it cannot be forged to dodge the limit); anonymous callers share
    /// a bucket per client IP. Behind a load balancer the IP only means something once forwarded headers are trusted.
    /// </summary>
    public static string CallerOf(HttpContext context) =>
        context.User.FindFirst("sub")?.Value is { Length: > 0 } subject
            ? "sub:" + subject
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    static TokenBucketRateLimiterOptions Options(TokenBucketSettings settings) => new()
    {
        TokenLimit = settings.TokenLimit,
        TokensPerPeriod = settings.TokensPerPeriod,
        ReplenishmentPeriod = settings.ReplenishmentPeriod,
        AutoReplenishment = true,
        // Reject at once rather than hold the connection: the client is told when to come back.
        QueueLimit = 0,
    };

    public static ILogger Logger(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("EventShop.Gateway.RateLimiting");

    static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));

        Logger(context).LogWarning("Rate limit hit by {Caller} on {Method} {Path}; retry after {RetryAfterSeconds} s",
                CallerOf(context), context.Request.Method, context.Request.Path, seconds);

        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"The rate limit for this caller was reached. Retry after {seconds} s.",
                Extensions = { ["retryAfterSeconds"] = seconds },
            },
        });
    }
}
