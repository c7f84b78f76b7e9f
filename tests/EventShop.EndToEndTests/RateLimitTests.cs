using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>Rate limits at the gateway, per subject (or client IP when anonymous), on a system of their own with low limits.</summary>
[Collection(ProductionLikeSystemCollection.Name)]
public sealed class RateLimitTests(RateLimitedEventShopSystem system)
{
    /// <summary>Buckets refill on a timer tick; Retry-After is rounded up to whole seconds, this covers the tick's own jitter.</summary>
    static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(250);

    static async Task<HttpResponseMessage> SubmitAsync(HttpClient client, string customer) =>
        await ShopClient.SubmitOrderRawAsync(client, Guid.NewGuid().ToString(),
            new { customerId = customer, merchantId = "shop", items = new[] { new { sku = "SKU-1", quantity = 1, unitPrice = 1.00m } } });

    /// <summary>Sends until the first 429 (the bucket may refill once while we send, hence more attempts than the burst).</summary>
    static async Task<(int Accepted, HttpResponseMessage Rejection)> SendUntilRejectedAsync(Func<Task<HttpResponseMessage>> send, int attempts)
    {
        var accepted = 0;
        for (var i = 0; i < attempts; i++)
        {
            var response = await send();
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                return (accepted, response);
            accepted++;
        }

        throw new Xunit.Sdk.XunitException($"no 429 after {attempts} requests");
    }

    static TimeSpan AssertRetryAfter(HttpResponseMessage rejection)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, rejection.StatusCode);
        Assert.Equal("application/problem+json", rejection.Content.Headers.ContentType?.MediaType);
        var retryAfter = rejection.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), RateLimitedEventShopSystem.Period + TimeSpan.FromSeconds(1));
        return retryAfter.Value;
    }

    [Fact]
    public async Task When_a_customer_submits_orders_faster_than_its_limit_Should_get_429_with_Retry_After_then_recover()
    {
        var customer = ShopClient.NewId("cust");
        using var client = system.Customer(customer);

        var (accepted, rejection) = await SendUntilRejectedAsync(() => SubmitAsync(client, customer), attempts: 10 * RateLimitedEventShopSystem.OrderSubmissionBurst);

        Assert.True(accepted >= RateLimitedEventShopSystem.OrderSubmissionBurst, $"only {accepted} accepted before the first 429");
        var retryAfter = AssertRetryAfter(rejection);

        // The stricter limit is on submitting only, and per subject: reads and other customers are unaffected.
        var lastOrders = await client.GetAsync($"/api/orders?customerId={customer}&limit=1");
        Assert.Equal(HttpStatusCode.OK, lastOrders.StatusCode);
        var otherCustomer = ShopClient.NewId("cust");
        using var otherClient = system.Customer(otherCustomer);
        Assert.Equal(HttpStatusCode.Accepted, (await SubmitAsync(otherClient, otherCustomer)).StatusCode);

        await Task.Delay(retryAfter + TimerSlack);
        Assert.Equal(HttpStatusCode.Accepted, (await SubmitAsync(client, customer)).StatusCode);
    }

    [Fact]
    public async Task When_anonymous_callers_flood_the_api_Should_limit_them_per_client_address()
    {
        using var anonymous = system.Client();

        var (answered, rejection) = await SendUntilRejectedAsync(() => anonymous.GetAsync("/api/orders"), attempts: 3 * RateLimitedEventShopSystem.GeneralBurst);

        Assert.True(answered >= RateLimitedEventShopSystem.GeneralBurst, $"only {answered} answered before the first 429");
        var retryAfter = AssertRetryAfter(rejection);
        var problem = await rejection.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(429, problem.GetProperty("status").GetInt32());

        // An authenticated caller has a bucket of its own, even from the same address.
        var customer = ShopClient.NewId("cust");
        using var customerClient = system.Customer(customer);
        Assert.Equal(HttpStatusCode.OK, (await customerClient.GetAsync($"/api/points/{customer}")).StatusCode);

        await Task.Delay(retryAfter + TimerSlack);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/orders")).StatusCode);
    }
}
