using EventShop.Messaging;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventShop.ServiceDefaults;

public sealed class RabbitMqSettings
{
    public const string Section = "RabbitMq";

    public string Host { get; set; } = "localhost";
    public ushort Port { get; set; } = 5672;
    public string VirtualHost { get; set; } = "eventshop";
    public string Username { get; set; } = "eventshop";
    public string Password { get; set; } = "eventshop";

    /// <summary>
    /// Deliveries of one message to a queue's consumers (x-delivery-limit) before the broker dead-letters it to the queue's
    /// _error queue. Only returns count (a consumer process that dies, or a nack): in-process retries do not. Without it a
    /// message that kills its consumer crash-loops the service on RabbitMQ 3.x, and RabbitMQ 4.x drops it at its default (ADR 0008).
    /// </summary>
    public int DeliveryLimit { get; set; } = 10;
}

public static class BusExtensions
{
    /// <summary>
    /// MassTransit on RabbitMQ, the same way in every service: kebab-case endpoint names, quorum queues (ADR 0002),
    /// publisher confirms, retries with backoff, and every consumer/saga inside the service's transactional inbox + outbox.
    /// </summary>
    public static IHostApplicationBuilder AddEventShopBus(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator> registerConsumers)
    {
        var settings = builder.Configuration.GetSection(RabbitMqSettings.Section).Get<RabbitMqSettings>() ?? new RabbitMqSettings();

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
                rabbit.Host(settings.Host, settings.Port, settings.VirtualHost, host =>
                {
                    host.Username(settings.Username);
                    host.Password(settings.Password);
                    host.PublisherConfirmation = true;
                    host.Heartbeat(TimeSpan.FromSeconds(10));
                });

                // Transient failures (a deadlock, a lost database connection) are retried in-process with backoff;
                // a message that still fails goes to its _error queue with the exception, and the saga's step timeout moves the order on.
                rabbit.UseMessageRetry(retry =>
                {
                    retry.Exponential(6, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200));
                    retry.Ignore<PoisonMessageException>();
                });
                rabbit.UseTransactionalInbox(context);
                rabbit.ConfigureEndpoints(context);
            });
        });

        builder.Services.Configure<MassTransitHostOptions>(options =>
        {
            // Start serving HTTP even while the broker is down; the bus keeps reconnecting in the background.
            options.WaitUntilStarted = false;
            options.StopTimeout = TimeSpan.FromSeconds(15);
        });

        return builder;
    }
}

/// <summary>Thrown by a consumer for a message that can never succeed: it skips the retries and goes straight to the error queue.</summary>
public sealed class PoisonMessageException(string message) : Exception(message);
