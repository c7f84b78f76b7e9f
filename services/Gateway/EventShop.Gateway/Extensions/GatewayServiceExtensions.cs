using EventShop.Gateway.Apis;
using EventShop.Gateway.Edge;
using EventShop.Gateway.Health;
using EventShop.Gateway.Logging;
using EventShop.Gateway.Proxy;
using EventShop.Gateway.RateLimiting;
using EventShop.ServiceDefaults;
using EventShop.ServiceDefaults.Errors;
using Yarp.ReverseProxy.Forwarder;

namespace EventShop.Gateway.Extensions;

public static class GatewayServiceExtensions
{
    public static IHostApplicationBuilder AddGatewayServices(this IHostApplicationBuilder builder)
    {
        builder.AddEdgeProtection();
        builder.AddEventShopAuthentication();
        builder.AddDevIssuer();
        builder.AddGatewayRateLimiting();
        builder.AddStreamLimits();
        builder.AddCustomerSummary();
        builder.AddInvariants();
        builder.AddApiReference();

        // Routes and per-cluster timeouts live in the ReverseProxy configuration section, what every cluster shares in ReverseProxyClusterDefaults.
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddConfigFilter<ClusterDefaults>();
        builder.Services.AddHealthChecks().AddCheck<DestinationsHealthCheck>("destinations");
        builder.Services.AddHostedService<DestinationHealthLog>();
        builder.Services.AddSingleton<IForwarderHttpClientFactory, RetryingForwarderHttpClientFactory>();
        UnretriedProbingRequestFactory.Decorate(builder.Services);
        return builder;
    }

    /// <summary>
    /// Logging first (so rejections are logged), then the error pipeline (so every answer below it, proxied or the gateway's own,
    /// is a problem document), the edge's headers and body limit, then identity, the rate limits, authorization, the cap on
    /// open streams per caller, and the JSON-only rule for bodies.
    /// </summary>
    public static WebApplication UseGatewayPipeline(this WebApplication app)
    {
        app.UseMiddleware<RequestLoggingMiddleware>();
        app.UseProblemResponses();
        app.UseEdgeProtection();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseStreamLimits();
        app.UseJsonRequestBodies();
        return app;
    }
}
