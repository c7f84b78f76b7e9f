using EventShop.Dashboard.Failures;
using EventShop.ServiceDefaults;

namespace EventShop.Dashboard.Extensions;

public static class DashboardServiceExtensions
{
    /// <summary>The operators' backend behind the page: failed messages from the broker and from every service's outbox.</summary>
    public static IHostApplicationBuilder AddDashboardServices(this IHostApplicationBuilder builder)
    {
        builder.UseStrictJson();
        builder.AddEventShopAuthentication();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.Configure<BrokerSettings>(builder.Configuration.GetSection(BrokerSettings.Section));
        builder.Services.AddHttpClient();
        builder.Services.AddSingleton<ErrorQueues>();
        builder.Services.AddSingleton<ServiceApis>();
        builder.Services.AddSingleton<RetryBatches>();
        return builder;
    }
}
