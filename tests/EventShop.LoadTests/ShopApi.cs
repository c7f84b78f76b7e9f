using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace EventShop.LoadTests;

public sealed record OrderView(Guid OrderId, string CustomerId, string MerchantId, decimal Total, string Status, long? PointsAccrued,
    string? FailureReason, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record AccountView(string AccountId, string Kind, decimal Balance, string Status);

public sealed record PointsView(string CustomerId, long Balance, string Status);

/// <summary>The public HTTP contract (docs/api.md) as the bench uses it, through the gateway only.</summary>
public sealed class ShopApi : IDisposable
{
    /// <summary>Long-poll wait asked of the Orders service per request; the client keeps asking until the order ends.</summary>
    const int LongPollSeconds = 20;

    readonly HttpClient _http;
    readonly Dictionary<string, AuthenticationHeaderValue> _tokens = new();

    public ShopApi(Uri gateway, int maxConnections)
    {
        // One pooled handler for the whole run: every in-flight order holds at most one connection (its submit or its long-poll).
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            UseCookies = false,
            UseProxy = false,
        };
        _http = new HttpClient(handler) { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(LongPollSeconds + 30) };
    }

    public void Dispose() => _http.Dispose();

    public async Task LoginAsync(string subject, string role)
    {
        var response = await _http.PostAsJsonAsync("/dev/token", new { subject, roles = new[] { role } });
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        _tokens[subject] = new AuthenticationHeaderValue("Bearer", token);
    }

    public async Task CreateAccountAsync(string operatorId, string accountId, string kind, decimal balance)
    {
        using var request = Request(HttpMethod.Post, "/api/accounts", operatorId);
        request.Content = JsonContent.Create(new { accountId, kind, balance });
        using var response = await _http.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"creating account {accountId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <returns>The order id, or null with the reason when the gateway did not answer 202.</returns>
    public async Task<(Guid? OrderId, string? Error)> SubmitOrderAsync(string customerId, string merchantId, int quantity, decimal unitPrice,
        CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Post, "/api/orders", customerId);
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        var body = string.Create(CultureInfo.InvariantCulture,
            $$"""{"customerId":"{{customerId}}","merchantId":"{{merchantId}}","items":[{"sku":"BENCH-1","quantity":{{quantity}},"unitPrice":{{unitPrice:0.00}}}]}""");
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Accepted)
            return (null, $"submit {(int)response.StatusCode}");
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return (accepted.GetProperty("orderId").GetGuid(), null);
    }

    /// <summary>
    /// Long-polls as <paramref name="subject"/> (the customer, as a client app does) until the order is no longer Pending or
    /// <paramref name="deadline"/> passes (then returns it still Pending). The gateway lets one caller hold only a few
    /// long-polls open at once (429 with Retry-After): a customer with more orders in flight waits and asks again, as a client must.
    /// </summary>
    public async Task<OrderView> FollowToTerminalAsync(string subject, Guid orderId, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            var remaining = deadline - DateTimeOffset.UtcNow;
            var wait = (int)Math.Clamp(Math.Ceiling(remaining.TotalSeconds), 0, LongPollSeconds);
            using var request = Request(HttpMethod.Get, $"/api/orders/{orderId}?waitForCompletion={wait}", subject);
            using var response = await _http.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && wait > 0)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"GET /api/orders/{orderId}: {(int)response.StatusCode}", null, response.StatusCode);
            var order = (await response.Content.ReadFromJsonAsync<OrderView>(JsonOptions, cancellationToken))!;
            if (order.Status != "Pending" || wait == 0)
                return order;
        }
    }

    public Task<OrderView> OrderAsync(string operatorId, Guid orderId) => GetAsync<OrderView>($"/api/orders/{orderId}", operatorId, default);

    /// <summary>The customer's most recent orders, newest first (the API caps <paramref name="limit"/> at 500).</summary>
    public Task<OrderView[]> CustomerOrdersAsync(string operatorId, string customerId, int limit) =>
        GetAsync<OrderView[]>($"/api/orders?customerId={Uri.EscapeDataString(customerId)}&limit={limit}", operatorId, default);

    public Task<AccountView> AccountAsync(string operatorId, string accountId) => GetAsync<AccountView>($"/api/accounts/{accountId}", operatorId, default);

    /// <summary>
    /// The order's saga with its transition history (operators only), or null when it cannot be read: the breakdown it
    /// feeds is a diagnosis after the run, and a failed read leaves that order out (the report gives how many were used)
    /// rather than losing the whole report.
    /// </summary>
    public async Task<SagaView?> SagaAsync(string operatorId, Guid orderId, CancellationToken cancellationToken)
    {
        try
        {
            return await GetAsync<SagaView>($"/api/sagas/{orderId}", operatorId, cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    public Task<PointsView> PointsAsync(string operatorId, string customerId) => GetAsync<PointsView>($"/api/points/{customerId}", operatorId, default);

    async Task<T> GetAsync<T>(string path, string subject, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, path, subject);
        using var response = await _http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET {path}: {(int)response.StatusCode}", null, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<T>(JsonOptions, cancellationToken))!;
    }

    HttpRequestMessage Request(HttpMethod method, string path, string subject)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = _tokens[subject];
        return request;
    }

    static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
