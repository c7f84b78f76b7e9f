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
    string? CompensationFailure = null, bool NeedsOperator = false, string? FailureCode = null, int StepAttempts = 0);

/// <param name="StuckItems">With stuck=true: every stuck saga with why, then the orders Pending past the budget with no saga.</param>
public sealed record SagaListResponse(SagaResponse[] Items, Dictionary<string, int> Counts, int Stuck, int NeedsOperator = 0,
    StuckItemResponse[]? StuckItems = null);

/// <param name="Kind"><c>saga</c> (over its state's budget) or <c>order-without-saga</c> (Pending past the budget, no saga).</param>
public sealed record StuckItemResponse(Guid OrderId, string Kind, string? State, double SecondsInState, double BudgetSeconds, string Reason);

public static class SagasApi
{
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
            saga.CompensationFailure, saga.CurrentState == NeedsOperatorState, saga.FailureCode, saga.StepAttempts));
    }

    /// <summary>
    /// What operators ask: how many sagas per state, which ones, and which are stuck (not ended and unchanged for
    /// <c>stuckAfterSeconds</c>, default 60). A state is named as the state machine names it, in any letter case.
    /// </summary>
    static async Task<Results<Ok<SagaListResponse>, ValidationProblem>> ListSagas(
        string? state, int? limit, bool? stuck, int? stuckAfterSeconds, SagaStateMachine<OrderState> machine, SagasDbContext db,
        StuckSagas stuckSagas, OrdersClient orders, HttpContext http, ILogger<SagaListResponse> logger, CancellationToken cancellationToken)
    {
        var stateNames = machine.States.Select(x => x.Name).ToArray();
        var knownState = state is null ? null : stateNames.FirstOrDefault(name => string.Equals(name, state, StringComparison.OrdinalIgnoreCase));
        var validation = new Validation()
            .Require(state is null || knownState is not null, "state", $"must be one of {string.Join(", ", stateNames)}")
            .Require(limit is null or (>= 1 and <= 1000), "limit", "must be between 1 and 1000")
            .Require(stuckAfterSeconds is null or (>= 1 and <= MaxStuckAfterSeconds), "stuckAfterSeconds", $"must be between 1 and {MaxStuckAfterSeconds}");
        if (!validation.IsValid)
            return validation.ToProblem();

        // Stuck by each state's budget on the database's clock, unless the caller asks for one uniform age.
        TimeSpan? uniformBudget = stuckAfterSeconds is null ? null : TimeSpan.FromSeconds(stuckAfterSeconds.Value);
        var stuckList = await stuckSagas.FindAsync(uniformBudget, 10_000, cancellationToken);
        var query = db.OrderStates.AsNoTracking();
        if (knownState is not null)
            query = query.Where(x => x.CurrentState == knownState);
        if (stuck == true)
        {
            var stuckIds = stuckList.Take(limit ?? 50).Select(x => x.OrderId).ToArray();
            query = query.Where(x => stuckIds.Contains(x.CorrelationId));
        }

        var items = await query.OrderByDescending(x => x.UpdatedAt).Take(limit ?? 50)
            .Select(x => new SagaResponse(x.CorrelationId, x.CurrentState, x.CustomerId, x.MerchantId, x.Total, x.FailureReason,
                x.StepDeadline, x.CreatedAt, x.UpdatedAt, null, x.CompensationFailure, x.CurrentState == NeedsOperatorState, x.FailureCode, x.StepAttempts))
            .ToArrayAsync(cancellationToken);

        var counts = await db.OrderStates.AsNoTracking().GroupBy(x => x.CurrentState)
            .Select(g => new { State = g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.State, x => x.Count, cancellationToken);
        StuckItemResponse[]? stuckItems = null;
        if (stuck == true)
        {
            stuckItems = [.. stuckList.Where(x => knownState is null || x.State == knownState).Take(limit ?? 50)
                .Select(x => new StuckItemResponse(x.OrderId, "saga", x.State, x.InState.TotalSeconds, x.Budget.TotalSeconds, x.Reason)),
                .. await OrdersWithoutSagaAsync(uniformBudget ?? stuckSagas.BudgetOf("Debiting"), limit ?? 50, db, orders, http, logger, cancellationToken)];
        }

        return TypedResults.Ok(new SagaListResponse(items, counts, stuckList.Count, counts.GetValueOrDefault(NeedsOperatorState), stuckItems));
    }

    /// <summary>
    /// Orders Pending past the budget that have no saga at all (their OrderSubmitted never arrived): Orders names the
    /// Pending ones, this service knows which have a saga. Orders unreachable: the list says so instead of failing.
    /// </summary>
    static async Task<StuckItemResponse[]> OrdersWithoutSagaAsync(TimeSpan budget, int limit, SagasDbContext db, OrdersClient orders,
        HttpContext http, ILogger logger, CancellationToken cancellationToken)
    {
        PendingOrder[] pending;
        try
        {
            pending = await orders.PendingAsync(budget, 500, http.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null,
                cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            logger.LogWarning(exception, "Orders could not list its Pending orders for the stuck list");
            return [new StuckItemResponse(Guid.Empty, "orders-unavailable", null, 0, budget.TotalSeconds,
                "Orders did not answer: orders Pending with no saga cannot be listed right now")];
        }

        var ids = pending.Select(x => x.OrderId).ToArray();
        var withSaga = await db.OrderStates.AsNoTracking().Where(x => ids.Contains(x.CorrelationId)).Select(x => x.CorrelationId)
            .ToListAsync(cancellationToken);
        return [.. pending.Where(x => !withSaga.Contains(x.OrderId)).Take(limit)
            .Select(x => new StuckItemResponse(x.OrderId, "order-without-saga", null, x.PendingSeconds, budget.TotalSeconds,
                $"Pending for {(long)x.PendingSeconds} s with no saga: its OrderSubmitted never reached the saga host"))];
    }
}
