using System.Net.Http.Json;
using System.Text.Json;

namespace EventShop.EndToEndTests;

/// <summary>What every error answer must be (API.md: RFC 9457 problem details), checked the same way everywhere.</summary>
public static class ProblemAssert
{
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, int status, string? field)
    {
        var body = await response.Content.ReadAsStringAsync();
        var what = $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}: {(int)response.StatusCode} {body}";

        Assert.True(status == (int)response.StatusCode, what);
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", what);
        var problem = JsonSerializer.Deserialize<JsonElement>(body);
        Assert.True(problem.GetProperty("status").GetInt32() == status, what);
        Assert.True(problem.TryGetProperty("type", out var type) && !string.IsNullOrWhiteSpace(type.GetString()), what);
        Assert.True(problem.TryGetProperty("title", out var title) && !string.IsNullOrWhiteSpace(title.GetString()), what);
        Assert.True(problem.TryGetProperty("traceId", out var traceId) && traceId.GetString() is { Length: 32 }, what);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain(".cs:line", body, StringComparison.Ordinal);
        if (field is not null)
            Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _), what);
        return problem;
    }
}
