using System.Security.Claims;
using EventShop.Messaging;
using EventShop.Sagas.Infrastructure;
using EventShop.Sagas.OrderPlacement;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Sagas.Apis;

public sealed record AuditEntryResponse(DateTimeOffset At, string Subject, string Action, string Target, string Service, Guid? OrderId, string? Detail);

public sealed record AuditListResponse(AuditEntryResponse[] Items);

/// <summary>What another service records for an action it performs (the dashboard's failure actions). The subject is the caller's token's.</summary>
public sealed record AuditRecordRequest(string Action, string Target, string Service, Guid? OrderId, string? Detail);

/// <summary>
/// The operators' audit trail (ADR 0016): the saga host keeps every entry. Its own actions are written with the action;
/// other services record theirs here before they act, under the operator's own token, so the subject is never taken on trust.
/// </summary>
public static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/audit").WithTags("Audit").RequireAuthorization(Policies.Operator);
        api.MapGet("/", List);
        api.MapPost("/", Record);
        return app;
    }

    static async Task<Results<Ok<AuditListResponse>, ValidationProblem>> List(Guid? orderId, int? limit, SagasDbContext db,
        CancellationToken cancellationToken)
    {
        var validation = new Validation().Require(limit is null or (>= 1 and <= 1000), "limit", "must be between 1 and 1000");
        if (!validation.IsValid)
            return validation.ToProblem();

        var query = db.Audit.AsNoTracking();
        if (orderId is not null)
            query = query.Where(x => x.OrderId == orderId);
        var items = await query.OrderByDescending(x => x.Id).Take(limit ?? 100)
            .Select(x => new AuditEntryResponse(x.At, x.Subject, x.Action, x.Target, x.Service, x.OrderId, x.Detail))
            .ToArrayAsync(cancellationToken);
        return TypedResults.Ok(new AuditListResponse(items));
    }

    static async Task<Results<Created, ValidationProblem>> Record(AuditRecordRequest request, ClaimsPrincipal user, UnitOfWork unitOfWork,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Require(!string.IsNullOrWhiteSpace(request.Action) && request.Action.Length <= 64, "action", "is required, at most 64 characters")
            .Require(!string.IsNullOrWhiteSpace(request.Target) && request.Target.Length <= 300, "target", "is required, at most 300 characters")
            .Identifier(request.Service, "service", 64)
            .Require(request.Detail is null || request.Detail.Length <= 1000, "detail", "must be at most 1000 characters");
        if (!validation.IsValid)
            return validation.ToProblem();

        unitOfWork.Insert(new AuditEntry
        {
            At = clock.GetUtcNow(), Subject = Audit.Subject(user), Action = request.Action, Target = request.Target,
            Service = request.Service, OrderId = request.OrderId, Detail = request.Detail,
        });
        await unitOfWork.CommitAsync(cancellationToken);
        return TypedResults.Created();
    }
}

static class Audit
{
    public static string Subject(ClaimsPrincipal user) => user.FindFirst("sub")?.Value ?? "unknown";

    public static AuditEntry Entry(ClaimsPrincipal user, TimeProvider clock, string action, Guid orderId, string detail) => new()
    {
        At = clock.GetUtcNow(), Subject = Subject(user), Action = action, Target = $"saga/{orderId}", Service = "sagas",
        OrderId = orderId, Detail = detail,
    };
}
