using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventShop.ServiceDefaults;

namespace EventShop.Gateway.Apis;

/// <summary>
/// Fault injection (ADR 0014), present only with <c>Faults:Enabled</c>. Each service keeps its own rules in its own
/// database; the gateway sends a new rule to the service it names, lists the rules of all of them, and finds a rule to
/// read or delete by asking each. The services validate and answer; their answers pass through as they are.
/// </summary>
public static class FaultsApi
{
    /// <summary>The services that consume messages, as fault rules name them.</summary>
    static readonly string[] Services = ["orders", "accounts", "points", "sagas"];
    static readonly TimeSpan ServiceTimeout = TimeSpan.FromSeconds(10);

    public static WebApplication MapFaultsApi(this WebApplication app)
    {
        if (!app.Configuration.GetValue<bool>("Faults:Enabled"))
            return app;

        var api = app.MapGroup("/api/faults").WithTags("Faults").RequireAuthorization(Policies.Operator);
        api.MapPost("/", AddRule);
        api.MapGet("/", ListRules);
        api.MapGet("/{id:guid}", GetRule);
        api.MapDelete("/{id:guid}", DeleteRule);
        return app;
    }

    static async Task<IResult> AddRule(JsonElement body, HttpContext context, SummarySources sources)
    {
        var service = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("service", out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
        if (service is null || !Services.Contains(service))
        {
            return new Validation().Require(false, "service", $"must be one of: {string.Join(", ", Services)}").ToProblem();
        }

        var detail = body.GetRawText();
        if (await AuditAsync(sources, context, "fault.add", $"faults/{service}", service, detail[..Math.Min(detail.Length, 1000)]) is { } refused)
            return refused;
        using var request = Request(HttpMethod.Post, sources, service, "/api/faults", context);
        request.Content = new StringContent(body.GetRawText(), Encoding.UTF8, "application/json");
        return await PassThroughAsync(sources, request, context);
    }

    static async Task<IResult> ListRules(HttpContext context, SummarySources sources)
    {
        var answers = await Task.WhenAll(Services.Select(async service =>
        {
            try
            {
                using var request = Request(HttpMethod.Get, sources, service, "/api/faults", context);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                timeout.CancelAfter(ServiceTimeout);
                using var response = await sources.Http.SendAsync(request, timeout.Token);
                if (!response.IsSuccessStatusCode)
                    return (service, Items: (JsonArray?)null);
                var list = await JsonNode.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), cancellationToken: timeout.Token);
                return (service, Items: list?["items"]?.AsArray());
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
            {
                return (service, Items: null);
            }
        }));

        var items = new JsonArray();
        foreach (var (_, list) in answers.Where(a => a.Items is not null))
        {
            foreach (var item in list!)
                items.Add(item?.DeepClone());
        }
        var missing = new JsonArray([.. answers.Where(a => a.Items is null).Select(a => (JsonNode?)JsonValue.Create(a.service))]);
        return TypedResults.Json(new JsonObject { ["items"] = items, ["missing"] = missing });
    }

    static async Task<IResult> GetRule(Guid id, HttpContext context, SummarySources sources) =>
        await FirstFoundAsync(HttpMethod.Get, id, context, sources);

    static async Task<IResult> DeleteRule(Guid id, HttpContext context, SummarySources sources) =>
        await AuditAsync(sources, context, "fault.delete", $"fault/{id}", "faults", detail: null) is { } refused
            ? refused
            : await FirstFoundAsync(HttpMethod.Delete, id, context, sources);

    /// <summary>
    /// Adding or removing a rule is an operator action: it goes into the audit trail (the saga host's) before it is made,
    /// under the caller's own token so the trail names who did it. When the trail cannot take it, the change is not made.
    /// </summary>
    /// <returns>Null once recorded; otherwise the problem to answer with.</returns>
    static async Task<IResult?> AuditAsync(SummarySources sources, HttpContext context, string action, string target, string service, string? detail)
    {
        using var request = Request(HttpMethod.Post, sources, "sagas", "/api/audit", context);
        request.Content = JsonContent.Create(new { action, target, service, orderId = (Guid?)null, detail });
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(ServiceTimeout);
            using var response = await sources.Http.SendAsync(request, timeout.Token);
            if (response.IsSuccessStatusCode)
                return null;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
        }

        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Audit trail unavailable",
            detail: "The change was not made: it could not be recorded in the audit trail first.");
    }

    /// <summary>A rule's id does not say which service holds it: each is asked, and the one that knows it answers.</summary>
    static async Task<IResult> FirstFoundAsync(HttpMethod method, Guid id, HttpContext context, SummarySources sources)
    {
        var unreachable = new List<string>();
        foreach (var service in Services)
        {
            using var request = Request(method, sources, service, $"/api/faults/{id}", context);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                timeout.CancelAfter(ServiceTimeout);
                using var response = await sources.Http.SendAsync(request, timeout.Token);
                if (response.StatusCode != HttpStatusCode.NotFound)
                    return await ResultOfAsync(response, context);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                unreachable.Add(service);
            }
        }

        return unreachable.Count == 0
            ? TypedResults.NotFound()
            : TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Fault rule not found",
                detail: $"No service that answered knows fault rule {id}; these did not answer: {string.Join(", ", unreachable)}.");
    }

    static HttpRequestMessage Request(HttpMethod method, SummarySources sources, string service, string path, HttpContext context)
    {
        var request = new HttpRequestMessage(method, new Uri(sources.AddressOf(service), path));
        // The caller's own token: the service applies its own authorization, as if it had been called directly.
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(context.Request.Headers.Authorization.ToString());
        return request;
    }

    static async Task<IResult> PassThroughAsync(SummarySources sources, HttpRequestMessage request, HttpContext context)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(ServiceTimeout);
            using var response = await sources.Http.SendAsync(request, timeout.Token);
            return await ResultOfAsync(response, context);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable",
                detail: "The service the fault rule names did not answer.");
        }
    }

    static async Task<IResult> ResultOfAsync(HttpResponseMessage response, HttpContext context)
    {
        if (response.Headers.Location is { } location)
            context.Response.Headers.Location = location.ToString();
        var content = await response.Content.ReadAsStringAsync(context.RequestAborted);
        if (content.Length == 0)
            return TypedResults.StatusCode((int)response.StatusCode);
        return TypedResults.Content(content, response.Content.Headers.ContentType?.ToString(), Encoding.UTF8, (int)response.StatusCode);
    }
}
