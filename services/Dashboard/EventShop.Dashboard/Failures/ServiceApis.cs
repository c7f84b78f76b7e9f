using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace EventShop.Dashboard.Failures;

public sealed record ParkedMessage(long Id, Guid MessageId, string MessageType, string? DestinationAddress, Guid? CorrelationId,
    DateTimeOffset CreatedAt, int Attempts, string Body);

public sealed record AuditRecord(string Action, string Target, string Service, Guid? OrderId, string? Detail);

/// <summary>
/// The services' own APIs, called with the operator's token: each service's parked outbox rows (it owns them, so it retries
/// and discards them), and the saga host's audit trail, which the dashboard writes to before every action (ADR 0016).
/// Addresses from <c>Services:&lt;name&gt;</c>.
/// </summary>
public sealed class ServiceApis(IHttpClientFactory httpClients, IConfiguration configuration)
{
    /// <summary>The services with a database, and so an outbox.</summary>
    public static readonly string[] WithOutbox = ["orders", "accounts", "points", "sagas"];

    public async Task<ParkedMessage[]> ParkedAsync(string service, int limit, string authorization, CancellationToken cancellationToken)
    {
        using var http = Client(service, authorization);
        return await http.GetFromJsonAsync<ParkedMessage[]>($"/outbox/parked?limit={limit}", cancellationToken) ?? [];
    }

    /// <returns>False when the row is no longer parked (delivered, discarded or retried meanwhile).</returns>
    public async Task<bool> ParkedActionAsync(string service, long id, string action, string authorization, CancellationToken cancellationToken)
    {
        using var http = Client(service, authorization);
        using var response = await http.PostAsync($"/outbox/parked/{id}/{action}", null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return false;
        response.EnsureSuccessStatusCode();
        return true;
    }

    public async Task RecordAsync(AuditRecord record, string authorization, CancellationToken cancellationToken)
    {
        using var http = Client("sagas", authorization);
        using var response = await http.PostAsJsonAsync("/api/audit", record, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A read from a service's own API with the operator's token; null for 404.</summary>
    /// <exception cref="UnauthorizedAccessException">The service refused the token (expired, or no longer an operator's).</exception>
    public async Task<JsonElement?> ReadAsync(string service, string path, string authorization, CancellationToken cancellationToken)
    {
        using var http = Client(service, authorization);
        using var response = await http.GetAsync(path, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            throw new UnauthorizedAccessException($"{service} refused the token: {(int)response.StatusCode}");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
    }

    HttpClient Client(string service, string authorization)
    {
        var http = httpClients.CreateClient(nameof(ServiceApis));
        http.BaseAddress = new Uri(configuration[$"Services:{service}"] ?? throw new InvalidOperationException($"Services:{service} is not configured"));
        http.DefaultRequestHeaders.Authorization = AuthenticationHeaderValue.Parse(authorization);
        return http;
    }
}
