using EventShop.Messaging.Faults;
using EventShop.Messaging.Inbox;
using EventShop.Messaging.Outbox;
using EventShop.Messaging.Sagas;
using MassTransit;
using MassTransit.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EventShop.Messaging;

public static class MessagingServiceCollectionExtensions
{
    /// <summary>Registers the outbox relay and the inbox filter's dependencies for a service whose data lives in <typeparamref name="TDbContext"/>.</summary>
    public static IServiceCollection AddTransactionalMessaging<TDbContext>(this IServiceCollection services, IConfiguration configuration)
        where TDbContext : DbContext
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<PublishStall>();
        services.Configure<OutboxRelayOptions>(configuration.GetSection(OutboxRelayOptions.Section));
        // One per message and per request: the consumer, the inbox filter and the saga repository share it.
        services.AddScoped(provider => new UnitOfWork(provider.GetRequiredService<TDbContext>(),
            provider.GetRequiredService<OutboxSignal>()));
        services.AddHostedService<OutboxRelay<TDbContext>>();
        services.Configure<InboxOptions>(configuration.GetSection(InboxOptions.Section));
        services.AddHostedService<InboxCleanup<TDbContext>>();
        services.AddSingleton(typeof(PostgresSagaConsumeContextFactory<>));
        services.Configure<FaultsOptions>(configuration.GetSection(FaultsOptions.Section));
        if (FaultsEnabled(configuration))
        {
            services.AddSingleton(provider => new FaultRules(provider.GetRequiredService<IServiceScopeFactory>(), typeof(TDbContext),
                provider.GetRequiredService<IOptions<FaultsOptions>>(), provider.GetRequiredService<TimeProvider>()));
        }
        return services;
    }

    /// <summary>Every consumer and saga on the bus runs inside the service's transaction with inbox and outbox.</summary>
    public static void UseTransactionalInbox(this IConsumePipeConfigurator configurator, IRegistrationContext context) =>
        configurator.UseConsumeFilter(typeof(TransactionalInboxFilter<>), context);

    /// <summary>Fault injection (ADR 0014): only in a configuration that asks for it (<c>Faults:Enabled</c>), never by default.</summary>
    public static bool FaultsEnabled(IConfiguration configuration) =>
        configuration.GetValue<bool>($"{FaultsOptions.Section}:{nameof(FaultsOptions.Enabled)}");

    /// <summary>The fault rules act on every consumer and saga: outside the inbox, inside the retries.</summary>
    public static void UseFaultInjection(this IConsumePipeConfigurator configurator, IRegistrationContext context)
    {
        configurator.UseConsumeFilter(typeof(FaultInjectionFilter<>), context);
        configurator.ConnectConsumerConfigurationObserver(new InjectedFailureObserver());
    }

    /// <summary>Stores the saga in the service's PostgreSQL database through our repository.</summary>
    public static ISagaRegistrationConfigurator<TSaga> PostgresRepository<TSaga>(this ISagaRegistrationConfigurator<TSaga> configurator)
        where TSaga : class, ISaga
    {
        configurator.Repository(registration => registration
            .RegisterSagaRepository<TSaga, DbContext, PostgresSagaConsumeContextFactory<TSaga>, PostgresSagaRepositoryContextFactory<TSaga>>());
        return configurator;
    }
}
