using System.Diagnostics;
using EventShop.Testing;
using Xunit.Abstractions;

namespace EventShop.EndToEndTests;

/// <summary>
/// One of two saga hosts with its wall clock 30 s ahead, then 30 s behind (libfaketime, preloaded into the process):
/// step deadlines are set and compared on the database's clock (ADR 0008), so no order may time out for it.
/// The integration tests (StepTimeoutSweeperTests, the reconciler's) move a clock inside one process; here a whole host
/// runs skewed, next to a host with the right time, while both take the saga's events.
/// </summary>
[Collection(ReplicatedSystemCollection.Name)]
public sealed class SkewedSagaClockTests(ReplicatedEventShopSystem system, ITestOutputHelper output)
{
    [Theory]
    [InlineData(30)]
    [InlineData(-30)]
    public async Task When_a_saga_host_clock_is_skewed_Should_complete_every_order_and_time_none_out(int skewSeconds)
    {
        Assert.True(FakeTime.Installed, FakeTime.MissingMessage);
        var skew = TimeSpan.FromSeconds(skewSeconds);
        var started = Stopwatch.StartNew();
        await system.SkewSagaHostAsync(skew);
        try
        {
            // The host really runs on the skewed clock: its HTTP Date header (Kestrel's clock) says so.
            using (var http = new HttpClient { BaseAddress = system[ReplicatedEventShopSystem.SkewedSagaHost].BaseAddress })
            {
                using var response = await http.GetAsync("/health");
                var seen = response.Headers.Date!.Value - DateTimeOffset.UtcNow;
                output.WriteLine($"{ReplicatedEventShopSystem.SkewedSagaHost} clock is {seen.TotalSeconds:F0} s off (asked for {skewSeconds} s)");
                Assert.InRange(seen.TotalSeconds, skewSeconds - 5, skewSeconds + 5);
            }

            var batch = new OrderBatch(system, customerCount: 3, customerBalance: 100m, prefix: "skew");
            await batch.OpenAccountsAsync();
            await batch.SubmitWhileAsync(minimumOrders: 20, unitPrice: 5m, disruption: () => Task.CompletedTask);
            var settledAfter = await batch.AssertSettledAsync(TimeSpan.FromSeconds(60));

            Assert.All(batch.Outcomes, order => Assert.True(order.Status == "Completed", $"order {order.OrderId}: {order.Status} ({order.FailureReason})"));
            // Both hosts took the sagas' events: a history written by both shows the skew between its steps' times.
            var sagas = await Task.WhenAll(batch.OrderIds.Select(id => new ShopClient(system).SagaAsync(id)));
            var mixed = sagas.Count(saga => saga.History!.Zip(saga.History!.Skip(1)).Any(pair => Math.Abs((pair.Second.At - pair.First.At).TotalSeconds) > 20));
            Assert.True(mixed > 0, "no saga's history shows both hosts' clocks: the skewed host took no event");
            output.WriteLine($"[fault battery] saga host clock {skewSeconds:+0;-0} s: {batch.Accepted} orders all Completed " +
                $"{settledAfter.TotalSeconds:F1} s after the last submission, {mixed} with steps on both hosts; case {started.Elapsed.TotalSeconds:F0} s");
        }
        finally
        {
            await system.SkewSagaHostAsync(TimeSpan.Zero);
        }
    }
}
