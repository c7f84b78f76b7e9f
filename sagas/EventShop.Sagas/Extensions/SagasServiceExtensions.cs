using EventShop.Messaging.Hosting;
using EventShop.Messaging;
using EventShop.Sagas.Infrastructure;
using EventShop.Messaging.Sagas;
using EventShop.Sagas.OrderPlacement;
using EventShop.Sagas.Recording;
using EventShop.ServiceDefaults;
using OpenTelemetry.Metrics;

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
        builder.Services.Configure<StuckOptions>(builder.Configuration.GetSection(StuckOptions.Section));
        builder.Services.AddScoped<StuckSagas>();
        builder.Services.AddHostedService<SagaGauges>();
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(SagaMetrics.MeterName));
        // Orders answers which orders are Pending with no saga (GET /api/sagas?stuck=true).
        builder.Services.AddHttpClient<OrdersClient>(http =>
            http.BaseAddress = new Uri(builder.Configuration["Services:orders"] ?? "http://localhost:5101"));
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
