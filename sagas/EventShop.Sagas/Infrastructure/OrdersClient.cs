using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace EventShop.Sagas.Infrastructure;

public sealed record PendingOrder(Guid OrderId, DateTimeOffset CreatedAt, double PendingSeconds);

/// <summary>Orders answers for its own orders: which are still Pending past a budget (no service reads another's database).</summary>
public sealed class OrdersClient(HttpClient http)
{
    /// <summary>Orders Pending for longer than <paramref name="budget"/>, asked with the operator's own token.</summary>
    public async Task<PendingOrder[]> PendingAsync(TimeSpan budget, int limit, string? authorization, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"/api/orders/pending?olderThanSeconds={(long)budget.TotalSeconds}&limit={limit}");
        if (authorization is not null)
            request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<PendingOrder[]>(cancellationToken) ?? [];
    }
}
