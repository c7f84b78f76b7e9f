using Scalar.AspNetCore;

namespace EventShop.Gateway.Apis;

/// <summary>
/// One API reference for the whole shop at <c>/scalar</c>. Each service publishes its own OpenAPI document; the reverse proxy
/// serves them here as <c>/openapi/{service}.json</c> (routes <c>openapi-*</c> in configuration), next to the gateway's own.
/// </summary>
public static class ApiReference
{
    public const string GatewayDocument = "gateway";
    static readonly string[] Documents = [GatewayDocument, "orders", "accounts", "points", "sagas"];

    public static IHostApplicationBuilder AddApiReference(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(GatewayDocument);
        return builder;
    }

    public static WebApplication MapApiReference(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference("/scalar", options => options
            .WithTitle("EventShop API")
            .AddDocuments(Documents))
            .AllowAnonymous();
        return app;
    }
}
