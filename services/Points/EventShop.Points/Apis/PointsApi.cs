using System.Security.Claims;
using EventShop.Messaging;
using EventShop.Points.Domain;
using EventShop.Points.Infrastructure;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Points.Apis;

public static class PointsApi
{
    public static IEndpointRouteBuilder MapPointsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/points").WithTags("Points").RequireAuthorization(Policies.CustomerOrOperator);

        api.MapGet("/{customerId}", GetMember);
        api.MapPost("/{customerId}/suspend", (string customerId, MemberBook book, UnitOfWork unitOfWork, TimeProvider clock, CancellationToken ct) =>
            SetStatus(customerId, MemberStatus.Suspended, book, unitOfWork, clock, ct)).RequireAuthorization(Policies.Operator);
        api.MapPost("/{customerId}/resume", (string customerId, MemberBook book, UnitOfWork unitOfWork, TimeProvider clock, CancellationToken ct) =>
            SetStatus(customerId, MemberStatus.Active, book, unitOfWork, clock, ct)).RequireAuthorization(Policies.Operator);
        return app;
    }

    static async Task<Results<Ok<MemberResponse>, ForbidHttpResult>> GetMember(
        string customerId, ClaimsPrincipal user, PointsDbContext db, CancellationToken cancellationToken)
    {
        if (!user.MayAccess(customerId))
            return TypedResults.Forbid();
        var member = await db.Members.AsNoTracking().SingleOrDefaultAsync(x => x.CustomerId == customerId, cancellationToken);
        return TypedResults.Ok(member is null
            ? new MemberResponse(customerId, 0, "active")
            : new MemberResponse(member.CustomerId, member.Balance, member.Status.ToString().ToLowerInvariant()));
    }

    static async Task<Results<Ok<MemberResponse>, ValidationProblem>> SetStatus(
        string customerId, MemberStatus status, MemberBook book, UnitOfWork unitOfWork, TimeProvider clock, CancellationToken cancellationToken)
    {
        var validation = new Validation().Identifier(customerId, "customerId");
        if (!validation.IsValid)
            return validation.ToProblem();

        await unitOfWork.BeginAsync(cancellationToken);
        var member = await book.LockMemberAsync(customerId, cancellationToken);
        member.Status = status;
        member.UpdatedAt = clock.GetUtcNow();
        unitOfWork.Update(member);
        await unitOfWork.CommitAsync(cancellationToken);
        return TypedResults.Ok(new MemberResponse(member.CustomerId, member.Balance, member.Status.ToString().ToLowerInvariant()));
    }
}
