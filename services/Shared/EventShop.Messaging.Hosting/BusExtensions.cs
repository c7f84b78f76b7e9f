using EventShop.Messaging;
using EventShop.Messaging.Hosting.Redelivery;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace EventShop.Messaging.Hosting;

public static class BusExtensions
{
    /// <summary>
    /// MassTransit on RabbitMQ, the same way in every service: kebab-case endpoint names, quorum queues (ADR 0002),
    /// publisher confirms, retries with backoff, and every consumer/saga inside the service's transactional inbox + outbox.
    /// </summary>
    public static IHostApplicationBuilder AddEventShopBus(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator> registerConsumers)
    {
        var settings = builder.Configuration.GetSection(RabbitMqSettings.Section).Get<RabbitMqSettings>() ?? new RabbitMqSettings();
        var faultsEnabled = MessagingServiceCollectionExtensions.FaultsEnabled(builder.Configuration);
        var receiveQueues = new ReceiveQueues();

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            // MassTransit 8.4+ reports anonymous usage data to masstransit.io after start. A shop's services should not call
            // out unasked, and offline (CI, this machine) every start logged a warning with a stack trace for it.
            // MASSTRANSIT_USAGE_TELEMETRY=true opts back in.
            bus.ConfigureUsageTelemetryOptions(options => options.Enabled = false);
            registerConsumers(bus);

            bus.AddConfigureEndpointsCallback((queue, endpoint) =>
            {
                receiveQueues.Add(queue);
                if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
                {
                    rabbit.SetQuorumQueue();
                    rabbit.SetQueueArgument("x-delivery-limit", settings.DeliveryLimit);
                    // Declared at start (not at the first fault, as MassTransit's error transport does), so the broker
                    // always has somewhere to put a message past its delivery limit: the same _error queue as a fault.
                    // With the arguments MassTransit's error transport copies from the endpoint's queue when it declares the
                    // _error queue at the first fault: the two declarations must agree, or that move fails (PRECONDITION_FAILED).
                    var deadLetters = $"{queue}_error";
                    rabbit.BindDeadLetterQueue(deadLetters, deadLetters, error =>
                    {
                        error.SetQueueArgument("x-queue-type", "quorum");
                        error.SetQueueArgument("x-delivery-limit", settings.DeliveryLimit);
                        error.SetQueueArgument("x-dead-letter-exchange", deadLetters);
                    });
                }
            });

            bus.UsingRabbitMq((context, rabbit) =>
            {
                // No default identity: every launcher passes the credentials it generated (.run/secrets, ADR 0020).
                if (settings.Username.Length == 0 || settings.Password.Length == 0)
                    throw new InvalidOperationException("RabbitMq:Username and RabbitMq:Password are not configured (the run command generates them into .run/secrets)");
                rabbit.Host(settings.Host, settings.Port, settings.VirtualHost, host =>
                {
                    host.Username(settings.Username);
                    host.Password(settings.Password);
                    host.PublisherConfirmation = true;
                    host.Heartbeat(TimeSpan.FromSeconds(10));
                });

                // Transient failures (a deadlock, a lost database connection) are retried in-process with backoff;
                // a message that still fails goes to its _error queue with the exception, and the saga's step timeout moves the order on.
                // One still failing for a transient cause is recorded as such (outside the retry), and the service's
                // ErrorQueueRedeliverer delivers it again once its database answers (ADR 0008 point 9).
                rabbit.UseFilter(new TransientFailureFilter());
                rabbit.UseMessageRetry(retry =>
                {
                    retry.Exponential(6, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200));
                    retry.Ignore<PoisonMessageException>();
                });
                if (faultsEnabled)
                    rabbit.UseFaultInjection(context);
                rabbit.UseTransactionalInbox(context);
                rabbit.ConfigureEndpoints(context);
            });
        });

        // The broker settings as this bus was configured with them: the redeliverer connects with them, the watchdog checks them.
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(receiveQueues);
        builder.Services.AddSingleton<ErrorQueueCensus>();
        builder.Services.Configure<ErrorQueueRedeliveryOptions>(builder.Configuration.GetSection(ErrorQueueRedeliveryOptions.Section));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<ErrorQueueRedeliverer>();
        builder.Services.AddHostedService<ReceiveEndpointWatchdog>();
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource("MassTransit").AddSource("EventShop.Messaging"));
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter("MassTransit").AddMeter(MessagingMetrics.MeterName));

        builder.Services.Configure<MassTransitHostOptions>(options =>
        {
            // Start serving HTTP even while the broker is down; the bus keeps reconnecting in the background.
            options.WaitUntilStarted = false;
            options.StopTimeout = TimeSpan.FromSeconds(15);
        });

        return builder;
    }
}
