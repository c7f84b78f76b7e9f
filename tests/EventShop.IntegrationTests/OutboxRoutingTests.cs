using System.Net.Http.Json;
using EventShop.Messaging;
using EventShop.Messaging.Outbox;
using EventShop.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventShop.IntegrationTests;

/// <summary>Nobody consumes it: the exchange MassTransit declares for it has no queue bound until a test binds one.</summary>
public sealed record Unrouted(int Value);

/// <summary>Like <see cref="Unrouted"/>, with an exchange of its own, so one test's binding does not route another's.</summary>
public sealed record ParkedProbe(int Value);

/// <summary>
/// A confirm is not a delivery (ADR 0008): the relay deletes a row only when the broker routed the message to a queue and
/// confirmed it. Each test makes the broker refuse a publish while the bus is healthy, so a relay that deleted a row without
/// the broker's confirmation (a publish not awaited, a failure counted as sent, a publish that is not mandatory) turns it red.
/// </summary>
public sealed class OutboxRoutingTests : IClassFixture<IsolatedInfrastructure>
{
    const string UnroutedExchange = "EventShop.IntegrationTests:Unrouted";

    readonly IsolatedInfrastructure _infrastructure;

    public OutboxRoutingTests(IsolatedInfrastructure infrastructure) => _infrastructure = infrastructure;

    Task<MessagingTestHost> StartHostAsync(Action<MassTransit.IBusRegistrationConfigurator> register, bool waitUntilHealthy = true) =>
        MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString, register,
            new Dictionary<string, string?>
            {
                ["Messaging:Outbox:PollInterval"] = "00:00:00.100",
                ["Messaging:Outbox:PollGrace"] = "00:00:00",
                ["Messaging:Outbox:MaxAttempts"] = "1000",
            },
            waitUntilHealthy);

    static async Task<Guid> CommitAsync(MessagingTestHost host, object message)
    {
        await using var scope = host.NewScope();
        var unitOfWork = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        var messageId = message switch
        {
            Unrouted unrouted => unitOfWork.Publish(unrouted),
            ParkedProbe parked => unitOfWork.Publish(parked),
            Probe probe => unitOfWork.Publish(probe),
            StuckProbe probe => unitOfWork.Publish(probe),
            _ => throw new ArgumentException(message.GetType().Name),
        };
        await unitOfWork.CommitAsync(CancellationToken.None);
        return messageId;
    }

    static Task<int> AttemptsAsync(MessagingTestHost host, Guid messageId) =>
        host.ScalarAsync<int>($"SELECT coalesce(max(\"Attempts\"), -1) AS \"Value\" FROM messaging.outbox_messages WHERE \"MessageId\" = '{messageId}'");

    async Task DeclareQueueAsync(string queue, object arguments, string exchange = UnroutedExchange)
    {
        using var http = TestInfrastructure.ManagementClient(_infrastructure.Broker);
        var vhost = Uri.EscapeDataString(_infrastructure.Name);
        (await http.PutAsJsonAsync($"api/queues/{vhost}/{queue}", new { durable = true, arguments })).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync($"api/bindings/{vhost}/e/{Uri.EscapeDataString(exchange)}/q/{queue}", new { routing_key = "" }))
            .EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task When_the_broker_does_not_route_a_message_Should_keep_its_row_until_a_queue_takes_it()
    {
        await using var host = await StartHostAsync(bus => bus.AddConsumer<ProbeConsumer>());

        // No queue bound: the broker confirms a non-mandatory publish and drops it. Mandatory, it is returned.
        var messageId = await CommitAsync(host, new Unrouted(1));
        await Eventually.TrueAsync(async () => await AttemptsAsync(host, messageId) >= 2,
            "the unroutable message's row must stay, with failed attempts counted");

        // A queue that takes it: delivered once, and only then deleted.
        await DeclareQueueAsync("unrouted-taken", new Dictionary<string, object>());
        await Eventually.TrueAsync(async () => await AttemptsAsync(host, messageId) == -1, "the row must be deleted once the broker took the message");
        // The management API's queue statistics lag the queue by a few seconds.
        await Eventually.TrueAsync(async () => await _infrastructure.QueueDepthAsync("unrouted-taken") == 1, "the message must be in the queue, once", seconds: 15);
    }

    [Fact]
    public async Task When_a_row_keeps_failing_Should_park_it_count_it_list_it_and_deliver_it_once_the_cause_is_gone()
    {
        await using var host = await MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString,
            bus => bus.AddConsumer<ProbeConsumer>(),
            new Dictionary<string, string?>
            {
                ["Messaging:Outbox:PollInterval"] = "00:00:00.100",
                ["Messaging:Outbox:PollGrace"] = "00:00:00",
                ["Messaging:Outbox:MaxAttempts"] = "2",
                ["Messaging:Outbox:ParkedRetryInterval"] = "00:00:03",
            });
        var relay = host.Services.GetServices<IHostedService>().OfType<OutboxRelay<ProbeDbContext>>().Single();

        var messageId = await CommitAsync(host, new ParkedProbe(2));
        await Eventually.TrueAsync(() => relay.Parked == 1, "the row that kept failing was not counted as parked", seconds: 15);
        Assert.Equal(messageId, Assert.Single(await relay.ParkedAsync(10, CancellationToken.None)).MessageId);

        // The cause goes away (a queue is bound): the parked row is tried again on its long back-off and delivered.
        await DeclareQueueAsync("parked-late", new Dictionary<string, object>(), "EventShop.IntegrationTests:ParkedProbe");
        await Eventually.TrueAsync(async () => await AttemptsAsync(host, messageId) == -1, "the parked row was never tried again", seconds: 15);
        // The management API's queue statistics lag the queue by a few seconds.
        await Eventually.TrueAsync(async () => await _infrastructure.QueueDepthAsync("parked-late") == 1, "the message must be in the queue, once", seconds: 15);
    }

    [Fact]
    public async Task When_one_receive_endpoint_cannot_start_Should_still_publish_for_the_others()
    {
        // The probe consumer's queue exists as a classic queue: declaring it as a quorum queue fails (PRECONDITION_FAILED),
        // that endpoint faults and the bus stays degraded. The service's other messages must still go out.
        using (var http = TestInfrastructure.ManagementClient(_infrastructure.Broker))
        {
            (await http.PutAsJsonAsync($"api/queues/{Uri.EscapeDataString(_infrastructure.Name)}/probe-row-written",
                new { durable = true, arguments = new Dictionary<string, object>() })).EnsureSuccessStatusCode();
        }

        await using var host = await StartHostAsync(bus =>
        {
            bus.AddConsumer<ProbeConsumer>();
            bus.AddConsumer<ProbeRowWrittenConsumer>();
        }, waitUntilHealthy: false);

        var messageId = await CommitAsync(host, new Probe(7));
        await Eventually.TrueAsync(() => host.Deliveries.Received.Any(x => x.MessageId == messageId),
            "a faulted endpoint elsewhere in the service must not stop its relay", seconds: 20);
        Assert.NotEqual(MassTransit.BusHealthStatus.Healthy, host.Services.GetRequiredService<MassTransit.IBusControl>().CheckHealth().Status);
    }

    [Fact]
    public async Task When_a_publish_never_completes_Should_give_it_up_in_time_keep_publishing_the_rest_and_send_it_again()
    {
        // What RabbitMQ.Client 7 did to a publish in flight when the broker was killed: its confirm never came, and the
        // relay, awaiting it without a bound, stopped publishing anything of the service for good (issue 22's finding).
        var stuck = new StuckPublishes();
        await using var host = await MessagingTestHost.StartAsync(_infrastructure.Broker, _infrastructure.Name, _infrastructure.ConnectionString,
            bus => bus.AddConsumer<StuckProbeConsumer>(),
            new Dictionary<string, string?>
            {
                ["Messaging:Outbox:PollInterval"] = "00:00:00.100",
                ["Messaging:Outbox:PollGrace"] = "00:00:00",
                ["Messaging:Outbox:PublishTimeout"] = "00:00:02",
            });

        using var observer = host.Bus.ConnectPublishObserver(new NeverCompletingPublishObserver(stuck));
        var hung = await CommitAsync(host, new StuckProbe(NeverCompletingPublishObserver.HangOnce));
        await Eventually.TrueAsync(() => stuck.Hung >= 1, "the publish was never attempted");
        var later = new List<Guid>();
        for (var i = 0; i < 5; i++)
            later.Add(await CommitAsync(host, new StuckProbe(i)));

        await Eventually.TrueAsync(() => later.All(id => host.Deliveries.Received.Any(x => x.MessageId == id)),
            "the messages committed after a publish that never completed were not delivered: the relay is stuck", seconds: 20);
        await Eventually.TrueAsync(() => host.Deliveries.Received.Any(x => x.MessageId == hung),
            "the message whose publish never completed was not sent again", seconds: 20);
                await Eventually.TrueAsync(async () => await host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.outbox_messages") == 0,
            "the outbox did not drain");
    }
}

/// <summary>How many publishes <see cref="NeverCompletingPublishObserver"/> has held for ever.</summary>
public sealed class StuckPublishes
{
    int _hung;

    public int Hung => Volatile.Read(ref _hung);

    /// <summary>True the first time only: that publish is to hang.</summary>
    public bool HangThisOne() => Interlocked.Increment(ref _hung) == 1;
}

/// <summary>A message type of its own: no consumer of another test's host, still stopping, can take it.</summary>
public sealed record StuckProbe(int Value);

public sealed class StuckProbeConsumer(Deliveries deliveries) : MassTransit.IConsumer<StuckProbe>
{
    public Task Consume(MassTransit.ConsumeContext<StuckProbe> context)
    {
        deliveries.Received.Add((context.MessageId!.Value, context.Message.Value));
        return Task.CompletedTask;
    }
}

/// <summary>Holds the first publish of a <see cref="StuckProbe"/> with value <see cref="HangOnce"/> for ever, as a lost confirm does.</summary>
public sealed class NeverCompletingPublishObserver(StuckPublishes stuck) : MassTransit.IPublishObserver
{
    public const int HangOnce = -22;

    public Task PrePublish<T>(MassTransit.PublishContext<T> context) where T : class =>
        context.Message is StuckProbe { Value: HangOnce } && stuck.HangThisOne()
            ? Task.Delay(Timeout.Infinite, CancellationToken.None)
            : Task.CompletedTask;

    public Task PostPublish<T>(MassTransit.PublishContext<T> context) where T : class => Task.CompletedTask;

    public Task PublishFault<T>(MassTransit.PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
}
