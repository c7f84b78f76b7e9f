using EventShop.Messaging.Hosting;
using EventShop.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventShop.IntegrationTests;

/// <summary>
/// ReceiveEndpointWatchdog spends no budget while the broker is away (ADR 0008 point 7): MassTransit's own reconnects are
/// the cure then, and a service that ended itself during a broker outage would only restart into the same outage. Its
/// exit-and-restart path with the broker reachable is proved end to end by EndpointWatchdogTests.
/// </summary>
public sealed class ReceiveEndpointWatchdogTests(IsolatedInfrastructure infrastructure) : IClassFixture<IsolatedInfrastructure>
{
    static readonly TimeSpan Budget = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task When_the_broker_refuses_connections_Should_not_end_the_service_however_long_its_endpoints_are_down()
    {
        // Nothing listens on this port: every connection is refused, as with the broker stopped or killed.
        var brokerAway = infrastructure.Broker with { AmqpPort = TestInfrastructure.FreeTcpPort() };
        await using var host = await MessagingTestHost.StartAsync(brokerAway, infrastructure.Name, infrastructure.ConnectionString,
            bus => bus.AddConsumer<ProbeConsumer>(),
            new Dictionary<string, string?> { ["RabbitMq:EndpointRecoveryBudget"] = Budget.ToString("c") },
            waitUntilHealthy: false);
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var bus = host.Services.GetRequiredService<IBusControl>();

        // The watchdog checks every 2 s: this is several checks and many budgets with the endpoint faulted.
        await Task.Delay(Budget * 10);

        Assert.Contains(bus.CheckHealth().Endpoints.Values, e => e.Status != BusHealthStatus.Healthy && e.Exception is not null);
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the watchdog ended the service while the broker refused connections");
        Assert.Equal(0, System.Environment.ExitCode);
    }

    /// <summary>
    /// The outbox relay's publishes all time out, none confirmed, while the broker accepts connections and every receive
    /// endpoint is up: what the database-partition test saw once after the heal (Accounts' relay channel never answered
    /// again). Once the timeouts span the budget, the watchdog ends the service for its supervisor.
    /// </summary>
    [Fact]
    public async Task When_every_publish_times_out_while_the_broker_is_reachable_Should_end_the_service_for_its_supervisor()
    {
        await using var host = await MessagingTestHost.StartAsync(infrastructure.Broker, infrastructure.Name, infrastructure.ConnectionString,
            bus => bus.AddConsumer<StalledProbeConsumer>(),
            new Dictionary<string, string?>
            {
                ["RabbitMq:EndpointRecoveryBudget"] = Budget.ToString("c"),
                ["Messaging:Outbox:PollInterval"] = "00:00:00.100",
                ["Messaging:Outbox:PollGrace"] = "00:00:00",
                ["Messaging:Outbox:PublishTimeout"] = "00:00:00.500",
            });
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        using var observer = host.Bus.ConnectPublishObserver(new StallingPublishObserver());
        try
        {
            await host.CommitElsewhereAsync(new StalledProbe(1));

            await Eventually.TrueAsync(() => lifetime.ApplicationStopping.IsCancellationRequested,
                "the watchdog did not end the service whose every publish timed out", seconds: 20);
            Assert.Equal(ReceiveEndpointWatchdog.PublishStallExitCode, System.Environment.ExitCode);
        }
        finally
        {
            // The test process's own exit code: the watchdog set it as it would for a service.
            System.Environment.ExitCode = 0;
        }
    }
}

public sealed record StalledProbe(int Value);

public sealed class StalledProbeConsumer : IConsumer<StalledProbe>
{
    public Task Consume(ConsumeContext<StalledProbe> context) => Task.CompletedTask;
}

/// <summary>Every publish of a <see cref="StalledProbe"/> waits for ever: a channel that stopped answering.</summary>
public sealed class StallingPublishObserver : IPublishObserver
{
    public Task PrePublish<T>(PublishContext<T> context) where T : class =>
        context.Message is StalledProbe ? Task.Delay(Timeout.Infinite, CancellationToken.None) : Task.CompletedTask;

    public Task PostPublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

    public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
}
