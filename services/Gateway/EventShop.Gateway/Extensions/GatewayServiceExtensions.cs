using EventShop.Gateway.Apis;
using EventShop.Gateway.Logging;
using EventShop.Gateway.Proxy;
using EventShop.Gateway.RateLimiting;
using EventShop.ServiceDefaults;
using Yarp.ReverseProxy.Forwarder;

namespace EventShop.Gateway.Extensions;

public static class GatewayServiceExtensions
{
    public static IHostApplicationBuilder AddGatewayServices(this IHostApplicationBuilder builder)
    {
        builder.AddEventShopAuthentication();
        builder.AddGatewayRateLimiting();
        builder.AddCustomerSummary();
        builder.AddApiReference();

        // Routes, per-cluster timeouts and health checks live in the ReverseProxy configuration section.
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
        builder.Services.AddSingleton<IForwarderHttpClientFactory, RetryingForwarderHttpClientFactory>();
        UnretriedProbingRequestFactory.Decorate(builder.Services);
        return builder;
    }

    /// <summary>Logging first (so rejections are logged), then identity, then the rate limit per subject, then authorization.</summary>
    public static WebApplication UseGatewayPipeline(this WebApplication app)
    {
        app.UseMiddleware<RequestLoggingMiddleware>();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }
}
