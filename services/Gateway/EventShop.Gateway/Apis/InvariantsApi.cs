using EventShop.Gateway.Invariants;
using EventShop.ServiceDefaults;
using OpenTelemetry.Metrics;

namespace EventShop.Gateway.Apis;

/// <summary>
/// <c>GET /api/invariants</c>: the latest verdict of the continuous invariant check (ADR 0013). The gateway composes it, as it
/// composes the customer summary, from what each service answers for its own data.
/// </summary>
public static class InvariantsApi
{
    public static IHostApplicationBuilder AddInvariants(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<InvariantsSettings>(builder.Configuration.GetSection(InvariantsSettings.Section));
        builder.Services.AddSingleton<ServiceToken>();
        builder.Services.AddSingleton<InvariantChecker>();
        builder.Services.AddSingleton<InvariantMonitor>();
        builder.Services.AddHostedService(services => services.GetRequiredService<InvariantMonitor>());
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(InvariantMonitor.MeterName));
        return builder;
    }

    public static WebApplication MapInvariantsApi(this WebApplication app)
    {
        app.MapGet("/api/invariants", async (InvariantMonitor monitor, CancellationToken cancellationToken) =>
                TypedResults.Ok(await monitor.CurrentAsync(cancellationToken)))
            .WithTags("Invariants")
            .RequireAuthorization(Policies.Operator);
        return app;
    }
}
