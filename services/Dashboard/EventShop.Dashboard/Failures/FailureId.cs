using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace EventShop.Dashboard.Failures;

/// <summary>
/// Failure ids are opaque to clients but stable: the same failed message has the same id in every list, because it is built
/// from where the message sits and its own id (an error queue and the message id, or a service and its outbox row).
/// </summary>
public static class FailureId
{
    public const string ErrorQueue = "q";
    public const string Outbox = "o";

    public static string For(string kind, string place, string key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{kind}|{place}|{key}"));

    public static bool TryParse(string id, out string kind, out string place, out string key)
    {
        kind = place = key = "";
        if (id.Length > 600)
            return false;
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(id);
        }
        catch (FormatException)
        {
            return false;
        }
        var parts = Encoding.UTF8.GetString(bytes).Split('|', 3);
        if (parts.Length != 3 || parts[0] is not (ErrorQueue or Outbox))
            return false;
        (kind, place, key) = (parts[0], parts[1], parts[2]);
        return true;
    }

    /// <summary>A group's key: the same service, message type and error always give the same short key.</summary>
    public static string Group(string service, string messageType, string error) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes($"{service}|{messageType}|{error}")).AsSpan(0, 12));
}
