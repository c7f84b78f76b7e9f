using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventShop.ServiceDefaults.Errors;

/// <summary>
/// One error pipeline for the gateway and every service: whatever goes wrong, the client gets an RFC 9457 problem document
/// (<c>application/problem+json</c>) with a stable <c>type</c>, the field errors where there are fields, and the trace id;
/// never an empty body, an exception page or a stack trace.
/// </summary>
public static class ProblemResponses
{
    /// <summary>A developer's explicit opt-in to ASP.NET Core's exception page (Development only); off everywhere by default.</summary>
    public const string DeveloperExceptionPageSetting = "Errors:DeveloperExceptionPage";

    /// <summary>Longest path plus query we serve. Kestrel's own limit is set above it so the 414 is ours, with a body.</summary>
    public const int MaxRequestTargetLength = 8 * 1024;

    // Types for statuses that ASP.NET Core's defaults leave without one, so every problem names a stable type.
    static readonly Dictionary<int, string> ExtraTypes = new()
    {
        [StatusCodes.Status413PayloadTooLarge] = "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        [StatusCodes.Status414UriTooLong] = "https://tools.ietf.org/html/rfc9110#section-15.5.15",
        [StatusCodes.Status429TooManyRequests] = "https://tools.ietf.org/html/rfc6585#section-4",
        [StatusCodes.Status431RequestHeaderFieldsTooLarge] = "https://tools.ietf.org/html/rfc6585#section-5",
    };

    public static IHostApplicationBuilder AddProblemResponses(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            if (problem.Type is null && problem.Status is { } status)
                problem.Type = ExtraTypes.GetValueOrDefault(status, "about:blank");
            // The W3C trace id alone, as the gateway returns it in X-Trace-Id and as the telemetry dashboard searches for it.
            problem.Extensions["traceId"] = Activity.Current?.TraceId.ToHexString() ?? context.HttpContext.TraceIdentifier;
        });
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        // Parameter binding failures become exceptions in every environment (not only Development), so the exception
        // handler can name the parameter instead of the framework answering a bare 400.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.Configure<KestrelServerOptions>(options =>
            options.Limits.MaxRequestLineSize = Math.Max(options.Limits.MaxRequestLineSize, 8 * MaxRequestTargetLength));
        return builder;
    }

    /// <summary>
    /// Call first in the pipeline: it must wrap authentication and authorization (their 401/403 have no body of their own),
    /// the endpoints (404/405) and the reverse proxy (502/504).
    /// </summary>
    public static IApplicationBuilder UseProblemResponses(this IApplicationBuilder app)
    {
        var configuration = app.ApplicationServices.GetRequiredService<IConfiguration>();
        var environment = app.ApplicationServices.GetRequiredService<IHostEnvironment>();
        if (!(environment.IsDevelopment() && configuration.GetValue(DeveloperExceptionPageSetting, false)))
            app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(RejectLongRequestTargets);
        return app;
    }

    /// <summary>
    /// A request that carries a body must say it is JSON (415 otherwise), whether the endpoint binds it or reads it itself.
    /// Call after authorization, so a caller without the right token learns that first.
    /// </summary>
    public static IApplicationBuilder UseJsonRequestBodies(this IApplicationBuilder app) => app.Use(RejectNonJsonBodies);

    static Task RejectLongRequestTargets(HttpContext context, RequestDelegate next)
    {
        var length = context.Request.Path.Value?.Length + context.Request.QueryString.Value?.Length ?? 0;
        return length <= MaxRequestTargetLength
            ? next(context)
            : WriteAsync(context, StatusCodes.Status414UriTooLong, "URI too long",
                $"The path and query must be at most {MaxRequestTargetLength} characters.");
    }

    static Task RejectNonJsonBodies(HttpContext context, RequestDelegate next)
    {
        var hasBody = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true;
        return !hasBody || context.Request.HasJsonContentType()
            ? next(context)
            : WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", JsonOnlyDetail);
    }

    internal const string JsonOnlyDetail = "The request body must be JSON, sent with Content-Type: application/json.";

    static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
