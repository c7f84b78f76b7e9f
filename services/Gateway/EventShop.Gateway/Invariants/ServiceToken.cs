using System.Security.Claims;
using EventShop.ServiceDefaults;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventShop.Gateway.Invariants;

/// <summary>
/// The operator token the background check presents to each service: no caller's token exists while nobody is asking. Signed
/// with the key the services already trust (Auth:SigningKey), short-lived, renewed before it expires.
/// </summary>
public sealed class ServiceToken(IConfiguration configuration, TimeProvider clock)
{
    public const string Subject = "gateway-invariants";
    static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    readonly Lock _lock = new();
    (string Token, DateTimeOffset RenewAfter)? _current;

    public string Get()
    {
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            if (_current is { } current && now < current.RenewAfter)
                return current.Token;
            var settings = configuration.GetSection(JwtSettings.Section).Get<JwtSettings>() ?? new JwtSettings();
            var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = settings.Issuer,
                Audience = settings.Audience,
                Subject = new ClaimsIdentity([new Claim("sub", Subject), new Claim("role", Roles.Operator)]),
                IssuedAt = now.UtcDateTime,
                NotBefore = now.UtcDateTime,
                Expires = (now + Lifetime).UtcDateTime,
                SigningCredentials = new SigningCredentials(settings.CreateKey(), SecurityAlgorithms.HmacSha256),
            });
            _current = (token, now + Lifetime / 2);
            return token;
        }
    }
}
