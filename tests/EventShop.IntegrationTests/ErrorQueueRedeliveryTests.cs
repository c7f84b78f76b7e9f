using System.Collections.Concurrent;
using System.Net.Sockets;
using EventShop.Messaging.Hosting;
using EventShop.Messaging.Hosting.Redelivery;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Xunit.Abstractions;

namespace EventShop.IntegrationTests;

/// <summary>
/// A message whose in-process retries ran out ends in its error queue; one that failed for a transient cause (the database
/// away) is delivered again by the service itself once its database answers, at most MaxRedeliveries times; one that failed
/// for any other cause waits there for an operator (ADR 0008 point 9). Real broker, real bus as the services configure it.
/// </summary>
public sealed class ErrorQueueRedeliveryTests(IsolatedInfrastructure infrastructure, ITestOutputHelper output) : IClassFixture<IsolatedInfrastructure>
{
    const string ErrorQueue = "flaky-work_error";

    [Fact]
    public async Task When_messages_fail_past_their_retries_Should_deliver_the_transient_ones_again_once_the_database_answers_within_a_budget()
    {
        var database = new DatabaseGate();
        await using var host = await MessagingTestHost.StartAsync(infrastructure.Broker, infrastructure.Name, infrastructure.ConnectionString,
            bus => bus.AddConsumer<FlakyWorkConsumer>().Endpoint(e => e.Name = "flaky-work"),
            new Dictionary<string, string?>
            {
                ["Messaging:Redelivery:Interval"] = "00:00:00.200",
                ["Messaging:Redelivery:FirstDelay"] = "00:00:00.500",
                ["Messaging:Redelivery:MaxRedeliveries"] = "2",
            },
            services: services => services.AddSingleton(database).AddHealthChecks()
                .AddCheck("probe-database", () => database.Reachable ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(),
                    tags: [DatabaseExtensions.DatabaseHealthTag]));

        var (healsOnRedelivery, neverHeals, broken) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await host.Bus.Publish(new FlakyWork(healsOnRedelivery, FlakyWork.TransientUntilRedelivered));
        await host.Bus.Publish(new FlakyWork(neverHeals, FlakyWork.AlwaysTransient));
        await host.Bus.Publish(new FlakyWork(broken, FlakyWork.Broken));

        // All three run out of their in-process retries (about 10 s) while the database is "down".
        await Eventually.TrueAsync(async () => await infrastructure.QueueDepthAsync(ErrorQueue) == 3, "the three failures did not reach the error queue", seconds: 60);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(3, await infrastructure.QueueDepthAsync(ErrorQueue));
        Assert.DoesNotContain(FlakyWorkConsumer.Attempts(healsOnRedelivery), attempt => attempt.Redeliveries > 0);

        database.Reachable = true;
        await Eventually.TrueAsync(() => FlakyWorkConsumer.Done.ContainsKey(healsOnRedelivery), "the transient failure was not delivered again", seconds: 30);
        await Eventually.TrueAsync(() => FlakyWorkConsumer.Attempts(neverHeals).Any(a => a.Redeliveries == 2)
            && FlakyWorkConsumer.Attempts(neverHeals).Count(a => a.Redeliveries == 2) == FlakyWorkConsumer.Attempts(neverHeals).Count(a => a.Redeliveries == 0),
            "the always-transient failure was not delivered again twice", seconds: 60);
        await Eventually.TrueAsync(async () => await infrastructure.QueueDepthAsync(ErrorQueue) == 2, "the error queue did not keep exactly the two for an operator", seconds: 30);
        // Another few passes: nothing moves once the budget is spent, or for a cause that does not pass by itself.
        await Task.Delay(TimeSpan.FromSeconds(3));

        output.WriteLine($"[redelivery] attempts: healed {Describe(healsOnRedelivery)}; never heals {Describe(neverHeals)}; broken {Describe(broken)}");
        Assert.Equal(1, FlakyWorkConsumer.Done[healsOnRedelivery]);
        Assert.Equal([0, 1, 2], FlakyWorkConsumer.Attempts(neverHeals).Select(a => a.Redeliveries).Distinct().Order());
        Assert.All(FlakyWorkConsumer.Attempts(broken), attempt => Assert.Equal(0, attempt.Redeliveries));
        Assert.Equal(2, await infrastructure.QueueDepthAsync(ErrorQueue));
    }

    static string Describe(Guid id) => string.Join(" ", FlakyWorkConsumer.Attempts(id).GroupBy(a => a.Redeliveries).Select(g => $"{g.Count()}x(redelivered {g.Key})"));
}

public sealed class DatabaseGate
{
    bool _reachable;

    public bool Reachable
    {
        get => Volatile.Read(ref _reachable);
        set => Volatile.Write(ref _reachable, value);
    }
}

public sealed record FlakyWork(Guid Id, string Behaviour)
{
    public const string TransientUntilRedelivered = "transient-until-redelivered";
    public const string AlwaysTransient = "always-transient";
    public const string Broken = "broken";
}

/// <summary>Fails as its message says: like a database that is away (transient), or like a bug (not transient).</summary>
public sealed class FlakyWorkConsumer : IConsumer<FlakyWork>
{
    static readonly ConcurrentQueue<(Guid Id, int Redeliveries)> Seen = new();
    public static ConcurrentDictionary<Guid, int> Done { get; } = new();

    public static IReadOnlyList<(Guid Id, int Redeliveries)> Attempts(Guid id) => [.. Seen.Where(s => s.Id == id)];

    public Task Consume(ConsumeContext<FlakyWork> context)
    {
        var redeliveries = context.ReceiveContext.TransportHeaders.Get(RedeliveryPlan.RedeliveriesHeader, default(int?)) ?? 0;
        Seen.Enqueue((context.Message.Id, redeliveries));
        switch (context.Message.Behaviour)
        {
            case FlakyWork.Broken:
                throw new InvalidOperationException("a bug: the same input fails the same way every time");
            case FlakyWork.AlwaysTransient:
            case FlakyWork.TransientUntilRedelivered when redeliveries == 0:
                throw new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused));
            default:
                Done.AddOrUpdate(context.Message.Id, 1, (_, count) => count + 1);
                return Task.CompletedTask;
        }
    }
}
