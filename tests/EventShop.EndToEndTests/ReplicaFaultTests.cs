using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventShop.Testing;
using Xunit.Abstractions;

namespace EventShop.EndToEndTests;

/// <summary>Two processes of every service: one of each dies under load, the survivors carry on, and each replica still answers waits.</summary>
[Collection(ReplicatedSystemCollection.Name)]
public sealed class ReplicaFaultTests(ReplicatedEventShopSystem system, ITestOutputHelper output)
{
    static readonly string[] Victims =
    [
        EventShopSystem.ProcessName("orders", 1), EventShopSystem.ProcessName("accounts", 2),
        EventShopSystem.ProcessName("points", 1), EventShopSystem.ProcessName("sagas", 2),
    ];

    readonly ShopClient _shop = new(system);

    [Fact]
    public async Task When_one_replica_of_each_service_is_killed_in_turn_mid_batch_Should_settle_every_order_exactly_once()
    {
        var batch = new OrderBatch(system, customerCount: 3, customerBalance: 200m, prefix: "replica");
        await batch.OpenAccountsAsync();
        var started = Stopwatch.StartNew();

        // Each victim is down for 2 s while orders keep coming (its twin alone consumes its queues and answers behind the
        // gateway), then starts again while the next service loses a replica: every service keeps one replica up throughout.
        var restarts = new List<Task>();
        await batch.SubmitWhileAsync(minimumOrders: 30, unitPrice: 4.50m, disruption: async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            foreach (var victim in Victims)
            {
                await system.KillAsync(victim);
                output.WriteLine($"{victim} killed at {started.Elapsed.TotalSeconds:F1} s");
                await Task.Delay(TimeSpan.FromSeconds(2));
                restarts.Add(system.RestartAsync(victim));
            }
            await Task.WhenAll(restarts);
            output.WriteLine($"every replica healthy again at {started.Elapsed.TotalSeconds:F1} s");
        });

        var settledAfter = await batch.AssertSettledAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(0, await DuplicatedPointsEntriesAsync());
        output.WriteLine($"[fault battery] one replica of each of {Victims.Length} services killed in turn: {batch.Accepted} orders " +
            $"({batch.Outcomes.Count(o => o.Status == "Completed")} Completed, {batch.Outcomes.Count(o => o.Status == "Cancelled")} Cancelled) " +
            $"all terminal {settledAfter.TotalSeconds:F1} s after the last restart; case {started.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>
    /// ADR 0006: the replica that consumes the outcome is chosen by the broker, so a client waiting on the other must hear
    /// of it through the database's notification. Waits are opened on each Orders replica directly, and the order is held
    /// in its last step (a delayed accrual) until they are all open.
    /// </summary>
    [Fact]
    public async Task When_an_order_completes_Should_answer_its_long_polls_and_streams_on_every_Orders_replica()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(50m, "replica-wait");
        await new FaultLab(system).AddAsync(new { service = "points", messageType = "AccruePoints", action = "delay", delayMs = 4000, customerId = customer });
        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 10m);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        var waits = system.ReplicasOf("orders").SelectMany(replica => new[]
        {
            WaitAsync(replica, "long-poll", async client =>
                (await (await client.GetAsync($"/api/orders/{orderId}?waitForCompletion=30", timeout.Token)).Content
                    .ReadFromJsonAsync<OrderView>(timeout.Token))!.Status),
            WaitAsync(replica, "stream", async client =>
            {
                using var response = await client.GetAsync($"/api/orders/{orderId}/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                return await LastStreamedStatusAsync(response, timeout.Token);
            }),
        }).ToList();

        var answers = await Task.WhenAll(waits);
        foreach (var (replica, kind, status, at) in answers)
            output.WriteLine($"{replica} {kind}: {status} at {at.TotalSeconds:F2} s");
        Assert.All(answers, answer => Assert.Equal("Completed", answer.Status));
        // The order was held 4 s, so every wait was open before the outcome; a replica that did not hear it would answer
        // only at its safety re-read (5 s).
        Assert.True(answers.Min(a => a.At) > TimeSpan.FromSeconds(1), "the order completed before the waits were open");
        var spread = answers.Max(a => a.At) - answers.Min(a => a.At);
        output.WriteLine($"[fault battery] waits on {system.ReplicasOf("orders").Count} Orders replicas ended within {spread.TotalMilliseconds:F0} ms of each other");
        Assert.True(spread < TimeSpan.FromSeconds(1.5), $"the waits ended {spread.TotalMilliseconds:F0} ms apart");
        Assert.Equal("Completed", (await _shop.WaitForOutcomeAsync(orderId)).Status);

        async Task<(string Replica, string Kind, string Status, TimeSpan At)> WaitAsync(ServiceProcess replica, string kind, Func<HttpClient, Task<string>> wait)
        {
            using var client = new HttpClient { BaseAddress = replica.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", system.Token(customer, "customer"));
            var status = await wait(client);
            return (replica.Name, kind, status, clock.Elapsed);
        }
    }

    static async Task<string> LastStreamedStatusAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        response.EnsureSuccessStatusCode();
        var last = "";
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
                last = JsonSerializer.Deserialize<JsonElement>(line["data:".Length..]).GetProperty("status").GetString()!;
        }
        return last;
    }

    Task<long> DuplicatedPointsEntriesAsync() => Invariants.ScalarAsync(system.ConnectionString("Points"), """
        SELECT count(*) FROM (SELECT "OrderId", "Type" FROM points.points_entries GROUP BY "OrderId", "Type" HAVING count(*) > 1) duplicates
        """);
}
