using System.Reflection;
using System.Security.Claims;
using EventShop.Messaging.Faults;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EventShop.Messaging.Hosting;

public sealed record FaultRuleRequest(string? Service, string? MessageType, string? Action, string? CrashPoint, int? DelayMs,
    string? CustomerId, int? Times);

public sealed record FaultRuleResponse(Guid Id, string Service, string MessageType, string Action, string? CrashPoint, int? DelayMs,
    string? CustomerId, int Times, int Fired, bool Active, DateTimeOffset CreatedAt, DateTimeOffset? LastFiredAt)
{
    public static FaultRuleResponse From(FaultRule rule) => new(rule.Id, rule.Service, rule.MessageType, rule.Action, rule.CrashPoint,
        rule.DelayMs, rule.CustomerId, rule.Times, rule.Fired, rule.Fired < rule.Times, rule.CreatedAt, rule.LastFiredAt);
}

public sealed record FaultRuleList(FaultRuleResponse[] Items);

/// <summary>
/// This service's fault rules (ADR 0014), behind the gateway's <c>/api/faults</c>, which sends each rule to the service it
/// names. Mapped only when <c>Faults:Enabled</c> is true; otherwise the routes do not exist (404).
/// </summary>
public static class FaultsApi
{
    const int MaxDelayMs = 300_000;
    const int MaxTimes = 10_000;

    public static WebApplication MapFaultsApi(this WebApplication app, string service)
    {
        if (!app.Configuration.GetValue<bool>($"{FaultsOptions.Section}:Enabled"))
            return app;

        var consumed = MessageTypes.ConsumedBy(Assembly.GetEntryAssembly()!);
        var api = app.MapGroup("/api/faults").WithTags("Faults").RequireAuthorization(Policies.Operator);
        api.MapPost("/", (FaultRuleRequest request, ClaimsPrincipal user, FaultRules rules, ILoggerFactory loggers, CancellationToken ct) =>
            AddRule(service, consumed, request, user, rules, loggers, ct));
        api.MapGet("/", async (FaultRules rules, CancellationToken ct) =>
            TypedResults.Ok(new FaultRuleList([.. (await rules.ListAsync(ct)).Select(FaultRuleResponse.From)])));
        api.MapGet("/{id:guid}", async Task<Results<Ok<FaultRuleResponse>, NotFound>> (Guid id, FaultRules rules, CancellationToken ct) =>
            await rules.FindAsync(id, ct) is { } rule ? TypedResults.Ok(FaultRuleResponse.From(rule)) : TypedResults.NotFound());
        api.MapDelete("/{id:guid}", async Task<Results<NoContent, NotFound>> (Guid id, ClaimsPrincipal user, FaultRules rules,
            ILoggerFactory loggers, CancellationToken ct) =>
        {
            if (!await rules.DeleteAsync(id, ct))
                return TypedResults.NotFound();
            Audit(loggers).LogInformation("Audit: {Subject} deleted fault rule {FaultRuleId}", user.FindFirstValue("sub"), id);
            return TypedResults.NoContent();
        });
        return app;
    }

    static async Task<Results<Created<FaultRuleResponse>, ValidationProblem>> AddRule(string service, IReadOnlyDictionary<string, Type> consumed,
        FaultRuleRequest request, ClaimsPrincipal user, FaultRules rules, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var validation = Validate(service, consumed, request);
        if (!validation.IsValid)
            return validation.ToProblem();

        var rule = await rules.AddAsync(new FaultRule(Guid.NewGuid(), service, request.MessageType!, request.Action!, request.CrashPoint,
            request.DelayMs, request.CustomerId, request.Times ?? 1, 0, default, null), cancellationToken);
        Audit(loggers).LogInformation("Audit: {Subject} added fault rule {FaultRuleId}: {Action} {CrashPoint} on {MessageType} x{Times}",
            user.FindFirstValue("sub"), rule.Id, rule.Action, rule.CrashPoint, rule.MessageType, rule.Times);
        return TypedResults.Created($"/api/faults/{rule.Id}", FaultRuleResponse.From(rule));
    }

    static Validation Validate(string service, IReadOnlyDictionary<string, Type> consumed, FaultRuleRequest request)
    {
        var validation = new Validation()
            .Require(request.Service == service, "service", $"must be '{service}' (this is the {service} service)")
            .Require(!string.IsNullOrEmpty(request.MessageType), "messageType", "is required")
            .Require(request.Action is not null && FaultActions.All.Contains(request.Action), "action",
                $"must be one of: {string.Join(", ", FaultActions.All)}")
            .Require(request.Times is null or >= 1 and <= MaxTimes, "times", $"must be between 1 and {MaxTimes}");

        if (!string.IsNullOrEmpty(request.MessageType))
        {
            validation.Require(consumed.ContainsKey(request.MessageType), "messageType",
                $"{service} does not consume '{request.MessageType}'; it consumes: {string.Join(", ", consumed.Keys.Order(StringComparer.Ordinal))}");
        }

        if (request.Action == FaultActions.Crash)
        {
            validation.Require(request.CrashPoint is not null && CrashPoints.All.Contains(request.CrashPoint), "crashPoint",
                $"must be one of: {string.Join(", ", CrashPoints.All)}");
        }
        else
            validation.Require(request.CrashPoint is null, "crashPoint", "is only for the action 'crash'");

        if (request.Action == FaultActions.Delay)
            validation.Require(request.DelayMs is >= 1 and <= MaxDelayMs, "delayMs", $"must be between 1 and {MaxDelayMs} for the action 'delay'");
        else
            validation.Require(request.DelayMs is null, "delayMs", "is only for the action 'delay'");

        if (request.CustomerId is not null)
        {
            validation.Identifier(request.CustomerId, "customerId");
            if (request.MessageType is not null && consumed.TryGetValue(request.MessageType, out var type))
            {
                validation.Require(FaultRules.CarriesCustomer(type), "customerId",
                    $"'{request.MessageType}' does not name the customer, so a rule on it cannot be limited to one");
            }
        }

        return validation;
    }

    static ILogger Audit(ILoggerFactory loggers) => loggers.CreateLogger("EventShop.Audit");
}
