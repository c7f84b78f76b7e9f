using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace EventShop.Gateway.Edge;

/// <summary>
/// What the gateway does for every request before it routes it (ADR 0020): bodies no larger than a service accepts, and
/// response headers that tell a browser how to take what it got. Host filtering is ASP.NET Core's own (<c>AllowedHosts</c>).
/// </summary>
public static class EdgeProtection
{
    /// <summary>The services read at most this much JSON (<see cref="JsonBody.DefaultMaxBytes"/>): more is refused here, unread.</summary>
    public const int MaxRequestBodyBytes = JsonBody.DefaultMaxBytes;

    /// <summary>For answers that are not pages (JSON, problems, streams): nothing may be loaded or framed on their account.</summary>
    const string ApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

    /// <summary>
    /// The API reference page (Scalar) runs its own bundled script and inline styles, served from the gateway itself, and
    /// calls the API it documents on the same origin.
    /// </summary>
    const string ApiReferenceContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        + "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'none'";

    public static IHostApplicationBuilder AddEdgeProtection(this IHostApplicationBuilder builder)
    {
        // Chunked bodies have no length to check up front: Kestrel stops reading them at the limit.
        builder.Services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        // Strict-Transport-Security only on HTTPS answers and outside Development (UseHsts checks both).
        builder.Services.AddHsts(options => options.MaxAge = TimeSpan.FromDays(365));
        return builder;
    }

    /// <summary>Call inside the error pipeline, so every refusal here is a problem document.</summary>
    public static IApplicationBuilder UseEdgeProtection(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
            app.UseHsts();
        app.Use(AddSecurityHeaders);
        app.Use(RejectLargeBodies);
        return app;
    }

    static Task AddSecurityHeaders(HttpContext context, RequestDelegate next)
    {
        // Set as the answer starts, so a destination's own headers (the dashboard's page policy) are seen and kept.
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            if (string.IsNullOrEmpty(headers.ContentSecurityPolicy))
                headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments("/scalar")
                    ? ApiReferenceContentSecurityPolicy
                    : ApiContentSecurityPolicy;
            return Task.CompletedTask;
        });
        return next(context);
    }

    static Task RejectLargeBodies(HttpContext context, RequestDelegate next)
    {
        if (context.Request.ContentLength is not > MaxRequestBodyBytes)
            return next(context);
        // The services' own answer to a body over their limit (400 naming the field), given before a byte is read or routed.
        return Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"must be at most {MaxRequestBodyBytes} bytes"] })
            .ExecuteAsync(context);
    }
}
