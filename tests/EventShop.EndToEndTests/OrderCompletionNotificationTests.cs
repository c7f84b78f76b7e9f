using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>How a client learns the outcome of an order without polling: long-poll and server-sent events, through the gateway.</summary>
[Collection(SystemCollection.Name)]
public sealed class OrderCompletionNotificationTests(EventShopSystem system)
{
    readonly ShopClient _shop = new(system);

    async Task<(string Customer, Guid OrderId)> SubmitOrderAsync()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        return (customer, await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 9.99m));
    }

    [Fact]
    public async Task When_waiting_for_completion_Should_answer_once_with_the_terminal_status()
    {
        var (customer, orderId) = await SubmitOrderAsync();
        using var client = system.Customer(customer);

        var clock = Stopwatch.StartNew();
        var response = await client.GetAsync($"/api/orders/{orderId}?waitForCompletion=45");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var order = await response.Content.ReadFromJsonAsync<OrderView>();
        Assert.Equal("Completed", order!.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"the saga ended, yet the long-poll took {clock.Elapsed}");
        Assert.Equal(order, await client.GetJsonAsync<OrderView>($"/api/orders/{orderId}"));
    }

    [Fact]
    public async Task When_another_replica_completes_the_order_Should_end_the_long_poll_and_the_stream_at_once()
    {
        var (answer, streamed, foundAfter) = await CompleteElsewhereWhileWaitingAsync("replica", alsoStream: true);

        Assert.Equal("Completed", answer.Status);
        Assert.Equal("Completed", streamed![^1]);
        // Notified, both answer within milliseconds; the margin is for a loaded CI machine, below the next re-read.
        Assert.True(foundAfter < TimeSpan.FromSeconds(1.5), $"the change was found {foundAfter} after it committed");
    }

    [Fact]
    public async Task When_the_listening_connection_is_lost_Should_listen_again_and_end_waits_at_once()
    {
        var orders = new OrdersDatabase(system);
        // The listener connects in the background once the service has started: it may be a moment behind its health.
        var lost = Assert.Single(await ListeningSessionsAsync(orders, except: null));
        Assert.Equal(1, await orders.TerminateSessionAsync(lost));
        await ListeningSessionsAsync(orders, except: lost);

        // Only the new listening session can end the wait in time.
        var (answer, _, foundAfter) = await CompleteElsewhereWhileWaitingAsync("relisten", alsoStream: false);

        Assert.Equal("Completed", answer.Status);
        Assert.True(foundAfter < TimeSpan.FromSeconds(1.5), $"the change was found {foundAfter} after it committed");
    }

    /// <summary>
    /// An order waited on by a long-poll (and a stream) and completed the way another replica would: straight in the
    /// database, so no message reaches this process's consumers and only the database's notification (or, much later, a
    /// re-read) can tell it. Returns the long-poll's answer, the streamed statuses and how long after the commit they ended.
    /// </summary>
    async Task<(OrderView Answer, List<string>? Streamed, TimeSpan FoundAfter)> CompleteElsewhereWhileWaitingAsync(string customerPrefix, bool alsoStream)
    {
        var orders = new OrdersDatabase(system);
        var customer = ShopClient.NewId(customerPrefix);
        var orderId = Guid.NewGuid();
        await orders.InsertPendingOrderAsync(orderId, customer, ShopClient.NewId("merchant"));
        try
        {
            using var client = system.Customer(customer);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

            var longPoll = client.GetAsync($"/api/orders/{orderId}?waitForCompletion=60", timeout.Token);
            using var stream = alsoStream
                ? await client.GetAsync($"/api/orders/{orderId}/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token)
                : null;
            // Between the safety re-reads (every 5 s): without the notification the change would be found 3.5 s later.
            await Task.Delay(TimeSpan.FromSeconds(6.5), timeout.Token);
            await orders.CompleteOrderElsewhereAsync(orderId);
            var completedAt = Stopwatch.StartNew();

            var answer = await (await longPoll).Content.ReadFromJsonAsync<OrderView>(timeout.Token);
            var streamed = stream is null ? null : await ReadStatusesAsync(stream, timeout.Token);
            return (answer!, streamed, completedAt.Elapsed);
        }
        finally
        {
            await orders.DeleteFabricatedOrderAsync(orderId);
        }
    }

    /// <summary>Waits (30 s at most) until a session other than <paramref name="except"/> listens, and returns them all.</summary>
    static async Task<List<int>> ListeningSessionsAsync(OrdersDatabase orders, int? except)
    {
        var waiting = Stopwatch.StartNew();
        while (true)
        {
            var sessions = await orders.StatusListenerSessionsAsync();
            if (sessions.Any(session => session != except))
                return sessions;
            Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(30), "the Orders service does not listen for status changes");
            await Task.Delay(100);
        }
    }

    static async Task<List<string>> ReadStatusesAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // The server closes the stream after the terminal status; reading to the end proves it did.
        var statuses = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
                statuses.Add(JsonSerializer.Deserialize<JsonElement>(line["data:".Length..]).GetProperty("status").GetString()!);
        }

        return statuses;
    }

    [Fact]
    public async Task When_following_the_event_stream_Should_end_with_the_terminal_status()
    {
        var (customer, orderId) = await SubmitOrderAsync();
        using var client = system.Customer(customer);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        using var response = await client.GetAsync($"/api/orders/{orderId}/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var statuses = await ReadStatusesAsync(response, timeout.Token);
        Assert.NotEmpty(statuses);
        Assert.Equal("Completed", statuses[^1]);
        Assert.Equal(statuses[^1], (await client.GetJsonAsync<OrderView>($"/api/orders/{orderId}")).Status);
        Assert.All(statuses[..^1], status => Assert.Equal("Pending", status));
    }
}
