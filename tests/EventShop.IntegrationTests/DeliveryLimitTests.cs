using System.Net.Http.Json;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.IntegrationTests;

/// <summary>
/// Every receive queue bounds redeliveries (ADR 0008): a message that keeps coming back (it kills its consumer process, or
/// is returned) goes to the queue's _error queue after the delivery limit, instead of crash-looping the service for ever.
/// </summary>
public sealed class DeliveryLimitTests : IClassFixture<IsolatedInfrastructure>
{
    readonly IsolatedInfrastructure _infrastructure;

    public DeliveryLimitTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    [Fact]
    public async Task When_a_message_keeps_coming_back_Should_be_dead_lettered_to_its_error_queue_after_the_limit()
    {
        const int limit = 3;
        // The service declares the queue (with its limit and dead-letter target) and stops: nobody consumes it now.
        await (await MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString,
            bus => bus.AddConsumer<ProbeConsumer>(), new Dictionary<string, string?> { ["RabbitMq:DeliveryLimit"] = limit.ToString() })).DisposeAsync();

        using var http = TestInfrastructure.ManagementClient(_infrastructure.Broker);
        var vhost = Uri.EscapeDataString(_infrastructure.Name);
        var queue = JsonDocument.Parse(await http.GetStringAsync($"api/queues/{vhost}/probe")).RootElement;
        Assert.Equal(limit, queue.GetProperty("arguments").GetProperty("x-delivery-limit").GetInt32());
        Assert.Equal("probe_error", queue.GetProperty("arguments").GetProperty("x-dead-letter-exchange").GetString());

        (await http.PostAsJsonAsync($"api/exchanges/{vhost}/amq.default/publish",
            new { properties = new { delivery_mode = 2 }, routing_key = "probe", payload = "poison", payload_encoding = "string" })).EnsureSuccessStatusCode();

        // Each get-and-requeue is a delivery that came back, as when a consumer process dies holding the message.
        for (var delivery = 0; delivery <= limit; delivery++)
        {
            var got = await http.PostAsJsonAsync($"api/queues/{vhost}/probe/get",
                new { count = 1, ackmode = "reject_requeue_true", encoding = "auto" });
            got.EnsureSuccessStatusCode();
        }

        await Eventually.TrueAsync(async () => await _infrastructure.QueueDepthAsync("probe_error") == 1,
            "past its delivery limit the message must be in the error queue", seconds: 10);
        // The management API's queue statistics lag the queue by a few seconds.
        await Eventually.TrueAsync(async () => await _infrastructure.QueueDepthAsync("probe") == 0, "the message must have left its queue", seconds: 15);
    }
}
