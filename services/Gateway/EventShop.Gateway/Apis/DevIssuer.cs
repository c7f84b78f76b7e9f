using System.Security.Claims;
using System.Security.Cryptography;
using EventShop.ServiceDefaults;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventShop.Gateway.Apis;

/// <summary>
/// The development token issuer (ADR 0020): on a developer's machine (the Development profile) the gateway holds the one
/// private key of the run (<c>DevIssuer:PrivateKey</c>, PEM or base64 PKCS#8, or <c>DevIssuer:PrivateKeyFile</c>), which the
/// run command and the tests generate; every process verifies with its public key. In production nothing is configured
/// here and tokens come from an OIDC provider.
/// </summary>
public sealed class DevIssuer(ECDsa key, JwtSettings settings, TimeProvider clock)
{
    public const string Section = "DevIssuer";

    /// <summary>Short: a leaked development token is worth a quarter of an hour; the dashboard and the tools fetch a fresh one.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    readonly SigningCredentials _credentials = new(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256);

    /// <summary>The issuer, when this process is on a developer's machine and holds the private key; otherwise null.</summary>
    public static DevIssuer? Create(IConfiguration configuration, IHostEnvironment environment)
    {
        if (!environment.IsDeveloperMachine())
            return null;
        var section = configuration.GetSection(Section);
        var text = section["PrivateKeyFile"] is { Length: > 0 } file ? File.ReadAllText(file) : section["PrivateKey"];
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var key = ECDsa.Create();
        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
            key.ImportFromPem(text);
        else
            key.ImportPkcs8PrivateKey(Convert.FromBase64String(text.Trim()), out _);
        var settings = configuration.GetSection(JwtSettings.Section).Get<JwtSettings>() ?? new JwtSettings();
        return new DevIssuer(key, settings, TimeProvider.System);
    }

    public string Issue(string subject, IEnumerable<string> roles, TimeSpan lifetime)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var claims = new List<Claim> { new("sub", subject) };
        claims.AddRange(roles.Distinct().Select(role => new Claim("role", role)));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = _credentials,
        });
    }
}
