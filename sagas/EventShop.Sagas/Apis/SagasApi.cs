using EventShop.Sagas.Infrastructure;
using EventShop.Sagas.OrderPlacement;
using EventShop.ServiceDefaults;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Sagas.Apis;

public sealed record SagaTransitionResponse(DateTimeOffset At, string Event, string FromState, string ToState, string? Detail);

/// <param name="NeedsOperator">The saga stopped where only an operator can finish it (CompensationFailed): why is in CompensationFailure.</param>
public sealed record SagaResponse(
    Guid OrderId, string State, string CustomerId, string MerchantId, decimal Total, string? FailureReason,
    DateTimeOffset? StepDeadline, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, SagaTransitionResponse[]? History,
    string? CompensationFailure = null, bool NeedsOperator = false);

public sealed record SagaListResponse(SagaResponse[] Items, Dictionary<string, int> Counts, int Stuck, int NeedsOperator = 0);

public static class SagasApi
{
    static readonly string[] TerminalStates = ["Completed", "Cancelled"];
    const int MaxStuckAfterSeconds = 7 * 24 * 3600;

    /// <summary>Ended, but not by itself: nothing will move these sagas on until an operator acts.</summary>
    const string NeedsOperatorState = "CompensationFailed";

    public static IEndpointRouteBuilder MapSagasApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/sagas").WithTags("Sagas").RequireAuthorization(Policies.Operator);
        api.MapGet("/{orderId:guid}", GetSaga);
        api.MapGet("/", ListSagas);
        return app;
    }

    static async Task<Results<Ok<SagaResponse>, NotFound>> GetSaga(Guid orderId, SagasDbContext db, CancellationToken cancellationToken)
    {
        var saga = await db.OrderStates.AsNoTracking().SingleOrDefaultAsync(x => x.CorrelationId == orderId, cancellationToken);
        if (saga is null)
            return TypedResults.NotFound();

        var history = await db.Transitions.AsNoTracking().Where(x => x.OrderId == orderId).OrderBy(x => x.Id)
            .Select(x => new SagaTransitionResponse(x.At, x.Event, x.FromState, x.ToState, x.Detail))
            .ToArrayAsync(cancellationToken);

        return TypedResults.Ok(new SagaResponse(saga.CorrelationId, saga.CurrentState, saga.CustomerId, saga.MerchantId, saga.Total,
            saga.FailureReason, saga.StepDeadline, saga.CreatedAt, saga.UpdatedAt, history,
            saga.CompensationFailure, saga.CurrentState == NeedsOperatorState));
    }

    /// <summary>
    /// What operators ask: how many sagas per state, which ones, and which are stuck (not ended and unchanged for
    /// <c>stuckAfterSeconds</c>, default 60). A state is named as the state machine names it, in any letter case.
    /// </summary>
    static async Task<Results<Ok<SagaListResponse>, ValidationProblem>> ListSagas(
        string? state, int? limit, bool? stuck, int? stuckAfterSeconds, SagaStateMachine<OrderState> machine, SagasDbContext db,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var stateNames = machine.States.Select(x => x.Name).ToArray();
        var knownState = state is null ? null : stateNames.FirstOrDefault(name => string.Equals(name, state, StringComparison.OrdinalIgnoreCase));
        var validation = new Validation()
            .Require(state is null || knownState is not null, "state", $"must be one of {string.Join(", ", stateNames)}")
            .Require(limit is null or (>= 1 and <= 1000), "limit", "must be between 1 and 1000")
            .Require(stuckAfterSeconds is null or (>= 1 and <= MaxStuckAfterSeconds), "stuckAfterSeconds", $"must be between 1 and {MaxStuckAfterSeconds}");
        if (!validation.IsValid)
            return validation.ToProblem();

        var stuckBefore = clock.GetUtcNow() - TimeSpan.FromSeconds(stuckAfterSeconds ?? 60);
        var query = db.OrderStates.AsNoTracking();
        if (knownState is not null)
            query = query.Where(x => x.CurrentState == knownState);
        if (stuck == true)
            query = query.Where(x => !TerminalStates.Contains(x.CurrentState) && x.UpdatedAt < stuckBefore);

        var items = await query.OrderByDescending(x => x.UpdatedAt).Take(limit ?? 50)
            .Select(x => new SagaResponse(x.CorrelationId, x.CurrentState, x.CustomerId, x.MerchantId, x.Total, x.FailureReason,
                x.StepDeadline, x.CreatedAt, x.UpdatedAt, null, x.CompensationFailure, x.CurrentState == NeedsOperatorState))
            .ToArrayAsync(cancellationToken);

        var counts = await db.OrderStates.AsNoTracking().GroupBy(x => x.CurrentState)
            .Select(g => new { State = g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.State, x => x.Count, cancellationToken);
        var stuckCount = await db.OrderStates.AsNoTracking()
            .CountAsync(x => !TerminalStates.Contains(x.CurrentState) && x.UpdatedAt < stuckBefore, cancellationToken);

        return TypedResults.Ok(new SagaListResponse(items, counts, stuckCount, counts.GetValueOrDefault(NeedsOperatorState)));
    }
}
