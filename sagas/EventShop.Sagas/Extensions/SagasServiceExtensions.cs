using EventShop.Messaging.Hosting;
using EventShop.Messaging;
using EventShop.Sagas.Infrastructure;
using EventShop.Messaging.Sagas;
using EventShop.Sagas.OrderPlacement;
using EventShop.Sagas.Recording;
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
        builder.AddSagaRecording();
        builder.AddEventShopBus(bus =>
            bus.AddSagaStateMachine<OrderStateMachine, OrderState>(typeof(OrderStateDefinition)).PostgresRepository());
        return builder;
    }

    static void AddSagaRecording(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(SagaRecordingOptions.Section);
        builder.Services.Configure<SagaRecordingOptions>(section);
        if (!section.GetValue(nameof(SagaRecordingOptions.Enabled), defaultValue: true))
            return;
        builder.Services.AddSingleton<ISagaRecorder<OrderState>, OrderSagaRecorder>();
        builder.Services.AddHostedService<SagaRecordingCleanup>();
    }
}
