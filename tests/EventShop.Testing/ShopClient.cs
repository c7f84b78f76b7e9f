using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace EventShop.Testing;

public sealed record AccountView(string AccountId, string Kind, decimal Balance, string Status);

public sealed record PointsView(string CustomerId, long Balance, string Status);

public sealed record OrderView(Guid OrderId, string CustomerId, string MerchantId, decimal Total, string Status, long? PointsAccrued,
    string? FailureReason, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? FailureCode = null);

public sealed record SagaTransitionView(DateTimeOffset At, string Event, string FromState, string ToState, string? Detail);

public sealed record SagaView(Guid OrderId, string State, string? FailureReason, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    SagaTransitionView[]? History);

public sealed record LedgerEntryView(Guid OrderId, string Type, decimal Amount, DateTimeOffset CreatedAt, string? Author = null, string? Reason = null);

/// <summary>What a client app does through the gateway, in the words of the API contract.</summary>
public sealed class ShopClient(EventShopSystem system)
{
    public async Task CreateAccountAsync(string accountId, string kind, decimal balance)
    {
        using var client = system.Operator();
        var response = await client.PostAsJsonAsync("/api/accounts", new { accountId, kind, balance });
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"creating {accountId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>A fresh customer holding <paramref name="customerBalance"/> and a fresh merchant at 0: the start of most scenarios.</summary>
    public async Task<(string Customer, string Merchant)> OpenCustomerAndMerchantAsync(decimal customerBalance = 100m, string customerPrefix = "cust")
    {
        var customer = NewId(customerPrefix);
        var merchant = NewId("shop");
        await CreateAccountAsync(customer, "customer", customerBalance);
        await CreateAccountAsync(merchant, "merchant", 0m);
        return (customer, merchant);
    }

    public async Task OperatorPostAsync(string path)
    {
        using var client = system.Operator();
        (await client.PostAsync(path, null)).EnsureSuccessStatusCode();
    }

    public static async Task<HttpResponseMessage> SubmitOrderRawAsync(HttpClient client, string idempotencyKey, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/orders") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request);
    }

    public async Task<Guid> SubmitOrderAsync(string customerId, string merchantId, decimal unitPrice, int quantity = 1, string? idempotencyKey = null)
    {
        using var client = system.Customer(customerId);
        var response = await SubmitOrderRawAsync(client, idempotencyKey ?? Guid.NewGuid().ToString(),
            new { customerId, merchantId, items = new[] { new { sku = "SKU-1", quantity, unitPrice } } });
        if (response.StatusCode != HttpStatusCode.Accepted)
            throw new InvalidOperationException($"submitting an order: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid();
    }

    /// <summary>Long-polls until the order is Completed or Cancelled.</summary>
    /// <summary>The order as it is now, without waiting for its outcome.</summary>
    public async Task<OrderView> OrderAsync(Guid orderId)
    {
        using var client = system.Operator();
        return await client.GetJsonAsync<OrderView>($"/api/orders/{orderId}");
    }

    public async Task<OrderView> WaitForOutcomeAsync(Guid orderId, TimeSpan? timeout = null)
    {
        using var client = system.Operator();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var order = await LongPollAsync(client, orderId);
            if (order?.Status is "Completed" or "Cancelled")
                return order;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"order {orderId} still Pending after {timeout}\n{await StuckOrderReport.DescribeAsync(system)}");
        }
    }

    /// <summary>
    /// The order once it left Pending or after 20 s; null when the gateway refused a long-poll because this caller (one
    /// operator subject for every test of a system) already holds its most open at once: after its Retry-After, as a client must.
    /// </summary>
    static async Task<OrderView?> LongPollAsync(HttpClient client, Guid orderId)
    {
        using var response = await client.GetAsync($"/api/orders/{orderId}?waitForCompletion=20");
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
            return null;
        }
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<OrderView>();
    }

    public async Task<AccountView> AccountAsync(string accountId)
    {
        using var client = system.Operator();
        return await client.GetJsonAsync<AccountView>($"/api/accounts/{accountId}");
    }

    public async Task<LedgerEntryView[]> LedgerAsync(string accountId)
    {
        using var client = system.Operator();
        return await client.GetJsonAsync<LedgerEntryView[]>($"/api/accounts/{accountId}/ledger");
    }

    public async Task<PointsView> PointsAsync(string customerId)
    {
        using var client = system.Operator();
        return await client.GetJsonAsync<PointsView>($"/api/points/{customerId}");
    }

    /// <summary>The saga, or null while the saga host has not received the order yet.</summary>
    public async Task<SagaView?> FindSagaAsync(Guid orderId)
    {
        using var client = system.Operator();
        var response = await client.GetAsync($"/api/sagas/{orderId}");
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<SagaView>();
    }

    public async Task<SagaView> SagaAsync(Guid orderId)
    {
        using var client = system.Operator();
        return await client.GetJsonAsync<SagaView>($"/api/sagas/{orderId}");
    }

    /// <summary>A fresh id per test, so tests sharing one running system never touch each other's accounts.</summary>
    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
}
