using System.Security.Claims;
using EventShop.Messaging;
using EventShop.Sagas.Infrastructure;
using EventShop.Sagas.OrderPlacement;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Sagas.Apis;

public sealed record SagaActionResponse(Guid OrderId, string Action, string State);

/// <summary>
/// An operator's retry and cancel. The API decides from the saga's state whether the action can apply (409 otherwise), then
/// hands it to the state machine as a message through the outbox, in the transaction that writes the audit entry: the saga
/// itself acts under its row lock, so an action that arrives after the saga has moved on changes nothing.
/// </summary>
public static class SagaActionsApi
{
    static readonly string[] CompensatingStates = ["ReversingPoints", "ReversingCredit", "Refunding"];
    static readonly string[] StepStates = ["Debiting", "Crediting", "Accruing"];
    const string CompensationFailedState = "CompensationFailed";

    public static IEndpointRouteBuilder MapSagaActionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/sagas").WithTags("Sagas").RequireAuthorization(Policies.Operator);
        api.MapPost("/{orderId:guid}/retry-step", RetryStep);
        api.MapPost("/{orderId:guid}/cancel", Cancel);
        return app;
    }

    static async Task<Results<Accepted<SagaActionResponse>, NotFound, ProblemHttpResult>> RetryStep(Guid orderId, ClaimsPrincipal user,
        SagasDbContext db, UnitOfWork unitOfWork, TimeProvider clock, CancellationToken cancellationToken)
    {
        var saga = await db.OrderStates.AsNoTracking().SingleOrDefaultAsync(x => x.CorrelationId == orderId, cancellationToken);
        if (saga is null)
            return TypedResults.NotFound();

        string? compensation = null;
        if (saga.CurrentState == CompensationFailedState)
        {
            compensation = saga.FailedCompensation ?? await db.Transitions.AsNoTracking()
                .Where(x => x.OrderId == orderId && x.ToState == CompensationFailedState).OrderByDescending(x => x.Id)
                .Select(x => x.FromState).FirstOrDefaultAsync(cancellationToken);
        }
        else if (!StepStates.Contains(saga.CurrentState) && !CompensatingStates.Contains(saga.CurrentState))
        {
            return Conflict("Saga has ended", $"The saga of order {orderId} is {saga.CurrentState}: there is no step to retry.");
        }

        if (saga.CurrentState == CompensationFailedState && !CompensatingStates.Contains(compensation))
            return Conflict("No compensation to retry", $"The saga of order {orderId} does not record which compensation gave up.");

        unitOfWork.Publish(new RetrySagaStep(orderId, compensation), orderId);
        unitOfWork.Insert(Audit.Entry(user, clock, "saga.retry-step", orderId,
            $"state {saga.CurrentState}{(compensation is null ? "" : $", resuming {compensation}")}, attempt {saga.StepAttempts + 1}"));
        await unitOfWork.CommitAsync(cancellationToken);
        return TypedResults.Accepted($"/api/sagas/{orderId}", new SagaActionResponse(orderId, "retry-step", saga.CurrentState));
    }

    static async Task<Results<Accepted<SagaActionResponse>, NotFound, ProblemHttpResult>> Cancel(Guid orderId, ClaimsPrincipal user,
        SagasDbContext db, UnitOfWork unitOfWork, TimeProvider clock, CancellationToken cancellationToken)
    {
        var saga = await db.OrderStates.AsNoTracking().SingleOrDefaultAsync(x => x.CorrelationId == orderId, cancellationToken);
        if (saga is null)
            return TypedResults.NotFound();
        if (CompensatingStates.Contains(saga.CurrentState))
        {
            return Conflict("Saga is already compensating",
                $"The saga of order {orderId} is {saga.CurrentState} ({saga.FailureReason}): it ends Cancelled on its own; retry-step re-sends its compensation.");
        }
        if (saga.CurrentState == CompensationFailedState)
            return Conflict("Saga needs its compensation retried", $"The saga of order {orderId} is {saga.CurrentState}: use retry-step.");
        if (!StepStates.Contains(saga.CurrentState))
            return Conflict("Saga has ended", $"The saga of order {orderId} is {saga.CurrentState}: it can no longer be cancelled.");

        unitOfWork.Publish(new CancelSaga(orderId), orderId);
        unitOfWork.Insert(Audit.Entry(user, clock, "saga.cancel", orderId, $"state {saga.CurrentState}"));
        await unitOfWork.CommitAsync(cancellationToken);
        return TypedResults.Accepted($"/api/sagas/{orderId}", new SagaActionResponse(orderId, "cancel", saga.CurrentState));
    }

    static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail);
}
