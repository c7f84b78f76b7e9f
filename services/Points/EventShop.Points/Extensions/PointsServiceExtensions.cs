using EventShop.Messaging.Hosting;
using EventShop.Messaging;
using EventShop.Points.Consumers;
using EventShop.Points.Infrastructure;
using EventShop.ServiceDefaults;

namespace EventShop.Points.Extensions;

public static class PointsServiceExtensions
{
    public static IHostApplicationBuilder AddPointsServices(this IHostApplicationBuilder builder)
    {
        builder.UseStrictJson();
        builder.AddEventShopAuthentication();
        builder.Services.AddOpenApi();
        builder.AddServiceDatabase<PointsDbContext>("Points");
        builder.Services.AddTransactionalMessaging<PointsDbContext>(builder.Configuration);
        builder.Services.AddScoped<MemberBook>();
        builder.AddEventShopBus(bus =>
        {
            bus.AddConsumer<AccruePointsConsumer>();
            bus.AddConsumer<ReversePointsAccrualConsumer>();
        });
        return builder;
    }
}
