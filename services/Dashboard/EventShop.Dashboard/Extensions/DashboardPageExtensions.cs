using Microsoft.Extensions.Primitives;

namespace EventShop.Dashboard.Extensions;

/// <summary>
/// The dashboard is a static page that operators open through the gateway at <c>/dashboard/</c> (a YARP route to this service).
/// We chose that over a page that calls the gateway cross-origin: it is same-origin, so there is no CORS policy to keep in step with
/// every environment's dashboard origin, no gateway base URL to inject into the page, no preflight on every poll, and the operator's
/// token is only ever sent to the origin that served the page. The gateway change is one route and one cluster of configuration.
/// </summary>
public static class DashboardPageExtensions
{
    public const string PathPrefix = "/dashboard";

    // The page loads only its own files and talks only to its own origin (the gateway); nothing inline, so injected markup cannot run.
    const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static WebApplication MapDashboardPage(this WebApplication app)
    {
        // A path-only Location, so the browser stays on the gateway's origin (the default-files redirect would name this service's
        // host). Middleware, not an endpoint: a "/dashboard" route would also match "/dashboard/" and redirect forever.
        app.Use((context, next) =>
        {
            if (context.Request.Path.Value != PathPrefix)
                return next(context);
            context.Response.Redirect($"{PathPrefix}/{context.Request.QueryString}");
            return Task.CompletedTask;
        });
        app.UseDefaultFiles(new DefaultFilesOptions { RequestPath = PathPrefix });
        app.UseStaticFiles(new StaticFileOptions
        {
            RequestPath = PathPrefix,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                // Revalidate (ETag) on every load, so operators get a new page version right after a deployment.
                headers.CacheControl = new StringValues("no-cache");
            },
        });

        // Opened on this service's own port, the page could not reach the APIs: send the operator to the gateway's copy.
        app.MapGet("/", (IConfiguration configuration) =>
            TypedResults.Redirect($"{configuration["Dashboard:GatewayUrl"]?.TrimEnd('/')}{PathPrefix}/"));
        return app;
    }
}
