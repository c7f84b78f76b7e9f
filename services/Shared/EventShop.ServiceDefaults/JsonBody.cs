using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventShop.ServiceDefaults;

/// <summary>
/// Reads a JSON body with a size limit and turns every way it can be wrong (too large, malformed, unknown field, wrong type)
/// into a validation problem that names the field, instead of the framework's bare 400.
/// </summary>
public static class JsonBody
{
    public const int DefaultMaxBytes = 64 * 1024;

    public static async Task<(T? Value, ValidationProblem? Problem)> ReadAsync<T>(HttpRequest request, int maxBytes = DefaultMaxBytes)
        where T : class
    {
        if (request.ContentLength > maxBytes)
            return (null, Problem("body", $"must be at most {maxBytes} bytes"));

        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes)
                return (null, Problem("body", $"must be at most {maxBytes} bytes"));
            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
            return (null, Problem("body", "is required"));

        var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        try
        {
            var value = JsonSerializer.Deserialize<T>(buffer.ToArray(), options);
            return value is null ? (null, Problem("body", "must be a JSON object")) : (value, null);
        }
        catch (JsonException exception)
        {
            var (field, message) = FieldError(exception);
            return (null, Problem(field, message));
        }
    }

    /// <summary>The field a deserialization error is about (or <c>body</c>), and what is wrong with it, in the client's words.</summary>
    internal static (string Field, string Message) FieldError(JsonException exception)
    {
        if (UnknownMemberName(exception.Message) is { } unknown)
            return (unknown, "is not a known field");
        var field = string.IsNullOrEmpty(exception.Path) || exception.Path == "$" ? "body" : exception.Path.TrimStart('$', '.');
        return (field, "has an invalid value or the JSON is malformed");
    }

    static string? UnknownMemberName(string message)
    {
        // System.Text.Json: "The JSON property 'colour' could not be mapped to any .NET member contained in type ..."
        const string marker = "The JSON property '";
        var start = message.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0 || !message.Contains("could not be mapped", StringComparison.Ordinal))
            return null;
        start += marker.Length;
        var end = message.IndexOf('\'', start);
        return end > start ? message[start..end] : null;
    }

    static ValidationProblem Problem(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
