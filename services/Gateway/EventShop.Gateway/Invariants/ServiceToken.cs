using System.Net.Http.Json;
using System.Text.Json.Serialization;
using EventShop.Gateway.Apis;
using EventShop.ServiceDefaults;

namespace EventShop.Gateway.Invariants;

/// <summary>
/// The operator token the background check presents to each service: no caller's token exists while nobody is asking. The
/// gateway holds no key the services trust (ADR 0020), so it asks an issuer: on a developer's machine the development issuer
/// in this process; in production the OIDC provider, by the client-credentials grant (<c>Invariants:TokenEndpoint</c>,
/// <c>ClientId</c>, <c>ClientSecret</c>, optional <c>Scope</c>), the provider deciding which roles this client gets.
/// Renewed at half its lifetime.
/// </summary>
public sealed class ServiceToken(IConfiguration configuration, SummarySources sources, TimeProvider clock, DevIssuer? issuer = null) : IDisposable
{
    public const string Subject = "gateway-invariants";
    static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    readonly SemaphoreSlim _renewing = new(1, 1);
    (string Token, DateTimeOffset RenewAfter)? _current;

    public async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_current is { } current && now < current.RenewAfter)
            return current.Token;
        await _renewing.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } renewed && now < renewed.RenewAfter)
                return renewed.Token;
            var (token, lifetime) = issuer is not null
                ? (issuer.Issue(Subject, [Roles.Operator], Lifetime), Lifetime)
                : await RequestAsync(cancellationToken);
            _current = (token, now + lifetime / 2);
            return token;
        }
        finally
        {
            _renewing.Release();
        }
    }

    async Task<(string, TimeSpan)> RequestAsync(CancellationToken cancellationToken)
    {
        var section = configuration.GetSection("Invariants");
        if (section["TokenEndpoint"] is not { Length: > 0 } endpoint)
        {
            throw new InvalidOperationException(
                "No token for the invariant check: outside Development configure Invariants:TokenEndpoint, ClientId and ClientSecret (client credentials at the OIDC provider)");
        }
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = section["ClientId"] ?? "",
            ["client_secret"] = section["ClientSecret"] ?? "",
        };
        if (section["Scope"] is { Length: > 0 } scope)
            form["scope"] = scope;
        using var response = await sources.Http.PostAsync(endpoint, new FormUrlEncodedContent(form), cancellationToken);
        response.EnsureSuccessStatusCode();
        var answer = await response.Content.ReadFromJsonAsync<TokenAnswer>(cancellationToken)
            ?? throw new InvalidOperationException($"{endpoint} answered no token");
        return (answer.AccessToken, TimeSpan.FromSeconds(Math.Max(60, answer.ExpiresIn)));
    }

    public void Dispose() => _renewing.Dispose();

    sealed record TokenAnswer([property: JsonPropertyName("access_token")] string AccessToken, [property: JsonPropertyName("expires_in")] int ExpiresIn);
}
