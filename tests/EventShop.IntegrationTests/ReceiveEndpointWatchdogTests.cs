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
}
