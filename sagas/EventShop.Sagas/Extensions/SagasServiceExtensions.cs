using EventShop.Messaging.Hosting;
using EventShop.Messaging;
using EventShop.Sagas.Infrastructure;
using EventShop.Sagas.OrderPlacement;
using EventShop.ServiceDefaults;

namespace EventShop.Sagas.Extensions;

public static class SagasServiceExtensions
{
    public static IHostApplicationBuilder AddSagasServices(this IHostApplicationBuilder builder)
    {
        builder.UseStrictJson();
        builder.AddEventShopAuthentication();
        builder.Services.AddOpenApi();
        builder.Services.Configure<OrderPlacementOptions>(builder.Configuration.GetSection(OrderPlacementOptions.Section));
        builder.AddServiceDatabase<SagasDbContext>("Sagas");
        builder.Services.AddTransactionalMessaging<SagasDbContext>(builder.Configuration);
        builder.Services.AddHostedService<StepTimeoutSweeper>();
        builder.AddEventShopBus(bus =>
            bus.AddSagaStateMachine<OrderStateMachine, OrderState>(typeof(OrderStateDefinition)).PostgresRepository());
        return builder;
    }
}
