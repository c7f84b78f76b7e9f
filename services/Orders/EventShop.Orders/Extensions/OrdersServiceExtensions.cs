using EventShop.Messaging.Hosting;
using EventShop.Messaging;
using EventShop.Orders.Consumers;
using EventShop.Orders.Infrastructure;
using EventShop.Orders.StatusNotifications;
using EventShop.Orders.Reconciliation;
using EventShop.ServiceDefaults;

namespace EventShop.Orders.Extensions;

public static class OrdersServiceExtensions
{
    public static IHostApplicationBuilder AddOrdersServices(this IHostApplicationBuilder builder)
    {
        builder.UseStrictJson();
        builder.AddEventShopAuthentication();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton<OrderStatusNotifier>();
        builder.AddServiceDatabase<OrdersDbContext>("Orders");
        builder.Services.AddHostedService<OrderStatusListener>();
        builder.Services.AddTransactionalMessaging<OrdersDbContext>(builder.Configuration);
        builder.Services.AddScoped<OrderBook>();
        builder.Services.Configure<PendingOrderReconcilerOptions>(builder.Configuration.GetSection(PendingOrderReconcilerOptions.Section));
        builder.Services.AddHostedService<PendingOrderReconciler>();
        builder.AddEventShopBus(bus =>
        {
            bus.AddConsumer<OrderCompletedConsumer>();
            bus.AddConsumer<OrderCancelledConsumer>();
        });
        return builder;
    }
}
