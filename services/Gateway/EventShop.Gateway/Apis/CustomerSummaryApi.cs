using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EventShop.Gateway.Apis;

public static partial class CustomerSummaryApi
{
    const int RecentOrderCount = 5;

    public static IHostApplicationBuilder AddCustomerSummary(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<CompositeReadSettings>(builder.Configuration.GetSection(CompositeReadSettings.Section));
        builder.Services.AddSingleton<SummarySources>();
        return builder;
    }

    public static WebApplication MapCustomerSummaryApi(this WebApplication app)
    {
        app.MapGet("/api/customers/{customerId}/summary", GetSummary)
            .WithTags("Customers")
            .RequireAuthorization(Policies.CustomerOrOperator);
        return app;
    }

    static async Task<Results<Ok<CustomerSummary>, ValidationProblem, ForbidHttpResult, NotFound, ProblemHttpResult>> GetSummary(
        string customerId, HttpContext context, SummarySources sources, IOptions<CompositeReadSettings> settings, ILoggerFactory loggers)
    {
        var validation = new Validation().Identifier(customerId, "customerId");
        if (!validation.IsValid)
            return validation.ToProblem();
        if (!context.User.MayAccess(customerId))
            return TypedResults.Forbid();

        var logger = loggers.CreateLogger(typeof(CustomerSummaryApi));
        // The caller's own token: each service applies its own authorization, as if it had been called directly.
        var authorization = AuthenticationHeaderValue.Parse(context.Request.Headers.Authorization.ToString());
        var id = Uri.EscapeDataString(customerId);

        Task<Part> Read(string cluster, string path) =>
            ReadPartAsync(sources.Http, new Uri(sources.AddressOf(cluster), path), authorization, settings.Value.PartTimeout, logger, context.RequestAborted);

        var account = Read("accounts", $"/api/accounts/{id}");
        var points = Read("points", $"/api/points/{id}");
        var orders = Read("orders", $"/api/orders?customerId={id}&limit={RecentOrderCount}");
        await Task.WhenAll(account, points, orders);

        var parts = new (string Field, Part Part)[] { ("account", account.Result), ("points", points.Result), ("recentOrders", orders.Result) };
        var missing = parts.Where(x => x.Part.IsMissing).Select(x => x.Field).ToArray();
        if (missing.Length == parts.Length)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Customer summary unavailable",
                detail: "None of the services behind the summary answered in time.",
                extensions: new Dictionary<string, object?> { ["missing"] = missing });
        }

        if (missing.Length == 0 && IsUnknownCustomer(account.Result, points.Result, orders.Result))
            return TypedResults.NotFound();

        return TypedResults.Ok(new CustomerSummary(customerId, account.Result.Value, points.Result.Value, orders.Result.Value, missing));
    }

    /// <summary>
    /// No account, no order and the points service's default answer for someone it never heard of (balance 0, active): a
    /// customer unknown everywhere. With a part missing we cannot tell, and the summary says what is missing instead.
    /// </summary>
    static bool IsUnknownCustomer(Part account, Part points, Part orders) =>
        account.Value is null
        && orders.Value is { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() == 0
        && points.Value is { } member
        && member.TryGetProperty("balance", out var balance) && balance.ValueKind == JsonValueKind.Number && balance.GetDecimal() == 0
        && member.TryGetProperty("status", out var status) && status.ValueEquals("active");

    readonly record struct Part(JsonElement? Value, bool IsMissing)
    {
        public static readonly Part NotFound = new(null, false);
        public static readonly Part Unavailable = new(null, true);
    }

    static async Task<Part> ReadPartAsync(HttpClient http, Uri uri, AuthenticationHeaderValue authorization, TimeSpan timeout,
        ILogger logger, CancellationToken requestAborted)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        deadline.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Authorization = authorization;
            using var response = await http.SendAsync(request, deadline.Token);
            if (response.StatusCode == HttpStatusCode.NotFound)
                return Part.NotFound;
            if (!response.IsSuccessStatusCode)
            {
                LogPartFailed(logger, uri, $"status {(int)response.StatusCode}");
                return Part.Unavailable;
            }

            await using var body = await response.Content.ReadAsStreamAsync(deadline.Token);
            return new Part(await JsonSerializer.DeserializeAsync<JsonElement>(body, cancellationToken: deadline.Token), false);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException || (e is OperationCanceledException && !requestAborted.IsCancellationRequested))
        {
            LogPartFailed(logger, uri, e is OperationCanceledException ? $"no answer within {timeout.TotalMilliseconds} ms" : e.Message);
            return Part.Unavailable;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Customer summary part {Uri} is missing: {Reason}")]
    static partial void LogPartFailed(ILogger logger, Uri uri, string reason);
}
