using EventShop.Messaging.Hosting;
using EventShop.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EventShop.IntegrationTests;

public sealed class BusConfigurationTests
{
    [Fact]
    public void Services_do_not_report_usage_telemetry_to_masstransit()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.AddEventShopBus(_ => { });
        using var host = builder.Build();

        Assert.False(host.Services.GetRequiredService<IOptions<UsageTelemetryOptions>>().Value.Enabled);
    }
}
