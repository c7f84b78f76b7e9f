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
    public async Task When_following_the_event_stream_Should_end_with_the_terminal_status()
    {
        var (customer, orderId) = await SubmitOrderAsync();
        using var client = system.Customer(customer);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        using var response = await client.GetAsync($"/api/orders/{orderId}/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        // The server closes the stream after the terminal status; reading to the end proves it did.
        var statuses = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
                statuses.Add(JsonSerializer.Deserialize<JsonElement>(line["data:".Length..]).GetProperty("status").GetString()!);
        }

        Assert.NotEmpty(statuses);
        Assert.Equal("Completed", statuses[^1]);
        Assert.Equal(statuses[^1], (await client.GetJsonAsync<OrderView>($"/api/orders/{orderId}")).Status);
        Assert.All(statuses[..^1], status => Assert.Equal("Pending", status));
    }
}
