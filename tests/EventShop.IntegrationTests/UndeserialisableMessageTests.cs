using System.Net.Http.Json;
using EventShop.Messaging;
using EventShop.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EventShop.IntegrationTests;

/// <summary>
/// A body no consumer can read (garbage, a broken JSON envelope, an unknown content type) must end in the queue's _error
/// queue, where it is counted and listed, and harm nothing else: not dropped, not looping, not blocking the queue.
/// </summary>
public sealed class UndeserialisableMessageTests : IClassFixture<IsolatedInfrastructure>
{
    readonly IsolatedInfrastructure _infrastructure;

    public UndeserialisableMessageTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    [Fact]
    public async Task When_a_queue_gets_a_body_nobody_can_read_Should_move_it_to_the_error_queue_and_consume_the_rest()
    {
        await using var host = await MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString,
            bus => bus.AddConsumer<ProbeConsumer>());

        using var http = TestInfrastructure.ManagementClient(_infrastructure.Broker);
        var vhost = Uri.EscapeDataString(_infrastructure.Name);
        var garbage = new object[]
        {
            new { properties = new { delivery_mode = 2, content_type = "application/vnd.masstransit+json", message_id = Guid.NewGuid().ToString() },
                routing_key = "probe", payload = "{\"message\": {\"value\": ", payload_encoding = "string" },
            new { properties = new { delivery_mode = 2, content_type = "application/x-unknown" }, routing_key = "probe", payload = "\u0001\u0002", payload_encoding = "string" },
            new { properties = new { delivery_mode = 2 }, routing_key = "probe", payload = "not a message at all", payload_encoding = "string" },
        };
        foreach (var message in garbage)
            (await http.PostAsJsonAsync($"api/exchanges/{vhost}/amq.default/publish", message)).EnsureSuccessStatusCode();

        Guid valid;
        await using (var scope = host.NewScope())
        {
            var unitOfWork = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
            valid = unitOfWork.Publish(new Probe(42));
            await unitOfWork.CommitAsync(CancellationToken.None);
        }

        await Eventually.TrueAsync(() => host.Deliveries.Received.Any(x => x.MessageId == valid),
            "a valid message behind the unreadable ones was not consumed", seconds: 20);
        // The management API's queue statistics lag the queue by a few seconds.
        await Eventually.TrueAsync(async () => await _infrastructure.QueueDepthAsync("probe_error") == garbage.Length,
            $"every unreadable message must be in probe_error, once", seconds: 20);
        await Eventually.TrueAsync(async () => await _infrastructure.QueueDepthAsync("probe") == 0, "nothing may stay (or loop) in the queue", seconds: 15);
        Assert.Single(host.Deliveries.Received);
    }
}
