using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace EventShop.ServiceDefaults;

/// <summary>
/// How every process checks tokens (section <c>Auth</c>, ADR 0020): asymmetric signatures only, verified with a public key, so
/// no process but the issuer can make a token. Either an OIDC provider (<c>Authority</c>: its discovery document names its
/// JWKS) or one public key (<c>PublicKey</c>: PEM or base64 SubjectPublicKeyInfo; or <c>PublicKeyFile</c>), the development
/// issuer's, which the run command and the tests generate.
/// </summary>
public sealed class JwtSettings
{
    public const string Section = "Auth";

    /// <summary>ES256 for the development issuer, RS256 as most OIDC providers sign; never a shared-secret (HS*) algorithm.</summary>
    public static readonly string[] Algorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256];

    public string Issuer { get; set; } = "eventshop";
    public string Audience { get; set; } = "eventshop-api";

    /// <summary>An OIDC provider's base address; its keys come from the JWKS its discovery document names.</summary>
    public string? Authority { get; set; }

    public bool RequireHttpsMetadata { get; set; } = true;

    public string? PublicKey { get; set; }
    public string? PublicKeyFile { get; set; }

    /// <summary>The configured public key, or null when none is (then <see cref="Authority"/> must be).</summary>
    public SecurityKey? CreatePublicKey()
    {
        var text = PublicKeyFile is { Length: > 0 } file ? File.ReadAllText(file) : PublicKey;
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var key = ECDsa.Create();
        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            // A private key here would make this process an issuer: only a public one is accepted.
            if (!text.Contains("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal))
                throw new InvalidOperationException("Auth:PublicKey must be a PUBLIC KEY (SubjectPublicKeyInfo PEM); no service holds a private key");
            key.ImportFromPem(text);
        }
        else
        {
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(text.Trim()), out _);
        }
        return new ECDsaSecurityKey(key);
    }
}
