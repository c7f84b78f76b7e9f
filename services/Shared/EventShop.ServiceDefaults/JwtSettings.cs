using Microsoft.IdentityModel.Tokens;

namespace EventShop.ServiceDefaults;

public sealed class JwtSettings
{
    public const string Section = "Auth";

    public string Issuer { get; set; } = "eventshop";
    public string Audience { get; set; } = "eventshop-api";

    /// <summary>Base64 HMAC key. Never committed: the run script generates one per machine, tests one per run.</summary>
    public string SigningKey { get; set; } = "";

    public SymmetricSecurityKey CreateKey()
    {
        if (string.IsNullOrWhiteSpace(SigningKey))
            throw new InvalidOperationException("Auth:SigningKey is not configured (base64, at least 32 bytes). The run script generates one in .run/signing-key.");
        var bytes = Convert.FromBase64String(SigningKey);
        if (bytes.Length < 32)
            throw new InvalidOperationException("Auth:SigningKey must be at least 32 bytes");
        return new SymmetricSecurityKey(bytes);
    }
}
