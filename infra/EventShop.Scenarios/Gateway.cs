using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace EventShop.Scenarios;

/// <summary>The running system as a client sees it: the gateway's routes only, with tokens from <c>POST /dev/token</c>.</summary>
public sealed class Gateway(HttpClient http) : IDisposable
{
    const string OperatorSubject = "scenario-runner";
    readonly ConcurrentDictionary<string, Task<(string Token, DateTime RenewAfter)>> _tokens = new();

    public Uri Address => http.BaseAddress!;

    public static Gateway Create(Uri address) =>
        new(new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(90) });

    public void Dispose() => http.Dispose();

    /// <summary>Development tokens live 15 minutes (ADR 0020) and the library runs longer: each is renewed at half its life.</summary>
    async Task<string> TokenAsync(string subject, string role)
    {
        var key = $"{role}:{subject}";
        var issued = await _tokens.GetOrAdd(key, _ => IssueAsync(subject, role));
        if (DateTime.UtcNow < issued.RenewAfter)
            return issued.Token;
        _tokens.TryRemove(key, out _);
        return (await _tokens.GetOrAdd(key, _ => IssueAsync(subject, role))).Token;
    }

    async Task<(string, DateTime)> IssueAsync(string subject, string role)
    {
        var response = await http.PostAsJsonAsync("/dev/token", new { subject, roles = new[] { role } });
        if (response.StatusCode == HttpStatusCode.NotFound)
            throw new ScenarioRunException($"{Address}dev/token answered 404: the system does not run in the Development environment, so no tokens can be issued");
        await EnsureAsync(response, "POST /dev/token");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("accessToken").GetString()!, DateTime.UtcNow.AddSeconds(body.GetProperty("expiresIn").GetInt32() / 2.0));
    }

    /// <summary>
    /// Sends one request, and again after the gateway's Retry-After while it answers 429: a scenario waits for all its orders at
    /// once as one operator, more long-polls than the gateway lets one caller hold open (RateLimiting:ConcurrentStreamsPerCaller).
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null, string? customer = null,
        Action<HttpRequestMessage>? prepare = null, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
                request.Content = JsonContent.Create(body);
            var token = customer is null ? await TokenAsync(OperatorSubject, "operator") : await TokenAsync(customer, "customer");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            prepare?.Invoke(request);
            var response = await http.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.TooManyRequests || attempt == MaxAttemptsWhenTooMany)
                return response;
            var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
            response.Dispose();
            await Task.Delay(wait, cancellationToken);
        }
    }

    const int MaxAttemptsWhenTooMany = 120;

    public async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, path, cancellationToken: cancellationToken);
        await EnsureAsync(response, $"GET {path}");
        return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
    }

    /// <summary>The body, or null when the route answers 404 (an unknown resource, or a feature the system does not have).</summary>
    public async Task<JsonElement?> FindAsync(string path, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, path, cancellationToken: cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        await EnsureAsync(response, $"GET {path}");
        return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
    }

    public async Task PostAsync(string path, object? body = null, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Post, path, body, cancellationToken: cancellationToken);
        await EnsureAsync(response, $"POST {path}");
    }

    /// <summary>Whether a route exists: 404 means the feature is absent (fault injection is off, or not built yet).</summary>
    public async Task<bool> HasRouteAsync(string path, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, path, cancellationToken: cancellationToken);
        return response.StatusCode != HttpStatusCode.NotFound;
    }

    public static async Task EnsureAsync(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode)
            return;
        var body = await response.Content.ReadAsStringAsync();
        throw new ScenarioRunException($"{what} answered {(int)response.StatusCode}: {Shorten(body)}");
    }

    static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + "...";

    /// <summary>A W3C trace context for one order: the gateway and every service join this trace, so its id finds the order in the telemetry.</summary>
    public static (string TraceId, string Header) NewTraceParent()
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        return (traceId, $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
    }
}

public sealed class ScenarioRunException(string message) : Exception(message);
