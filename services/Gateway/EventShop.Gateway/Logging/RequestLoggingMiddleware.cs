using System.Diagnostics;

namespace EventShop.Gateway.Logging;

/// <summary>
/// One line per API request at the edge: who asked for what, what they got and how long it took, with the trace id that links
/// it to the services' logs and spans. It runs first, so rejections (401, 403, 429) are logged too.
/// The trace id is also returned in <c>X-Trace-Id</c>, so a client can quote it when reporting a problem.
/// </summary>
public sealed partial class RequestLoggingMiddleware(RequestDelegate next, ILogger<RequestLoggingMiddleware> logger)
{
    public const string TraceIdHeader = "X-Trace-Id";

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/alive"))
        {
            await next(context);
            return;
        }

        var traceId = Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[TraceIdHeader] = traceId;
            return Task.CompletedTask;
        });

        var started = Stopwatch.GetTimestamp();
        var statusCode = StatusCodes.Status500InternalServerError; // what the server answers if the pipeline throws
        try
        {
            await next(context);
            statusCode = context.Response.StatusCode;
        }
        finally
        {
            var subject = context.User.FindFirst("sub")?.Value ?? "anonymous";
            LogRequest(logger, context.Request.Method, context.Request.Path, statusCode,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds, subject, traceId);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Method} {Path} answered {StatusCode} in {DurationMs:0.0} ms for {Subject} (trace {TraceId})")]
    static partial void LogRequest(ILogger logger, string method, PathString path, int statusCode, double durationMs, string subject, string traceId);
}
