using System.Text.Json;
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
/// <param name="Total">How many sagas match the filters (all pages), for paging with <c>offset</c>.</param>
public sealed record SagaListResponse(SagaResponse[] Items, Dictionary<string, int> Counts, int Stuck, int NeedsOperator = 0,
    StuckItemResponse[]? StuckItems = null, int Total = 0, int Offset = 0);

/// <param name="Kind"><c>saga</c> (over its state's budget) or <c>order-without-saga</c> (Pending past the budget, no saga).</param>
public sealed record StuckItemResponse(Guid OrderId, string Kind, string? State, double SecondsInState, double BudgetSeconds, string Reason);
/// <param name="Index">The message's place in the saga's history, from 0.</param>
/// <param name="Sent">What the saga sent in response: <c>[{"messageType","destination","body"}]</c>.</param>
public sealed record SagaMessageResponse(
    int Index, DateTimeOffset At, Guid? MessageId, string MessageType, string FromState, string ToState, JsonElement Body,
    JsonElement Headers, JsonElement StateBefore, JsonElement StateAfter, JsonElement Sent);

public sealed record SagaMessagesResponse(Guid OrderId, SagaMessageResponse[] Messages);


public static class SagasApi
{
    const int MaxStuckAfterSeconds = 7 * 24 * 3600;

    /// <summary>Ended, but not by itself: nothing will move these sagas on until an operator acts.</summary>
    const string NeedsOperatorState = "CompensationFailed";

    public static IEndpointRouteBuilder MapSagasApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/sagas").WithTags("Sagas").RequireAuthorization(Policies.Operator);
        api.MapGet("/graph", GetGraph);
        api.MapGet("/{orderId:guid}", GetSaga);
        api.MapGet("/{orderId:guid}/messages", GetMessages);
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

    /// <summary>The state machine as a Mermaid flowchart (the picture in docs/saga.md, drawn from the running code).</summary>
    static ContentHttpResult GetGraph(SagaStateMachine<OrderState> machine) =>
        TypedResults.Text(StateMachineDiagram.Mermaid(machine), "text/plain; charset=utf-8");

    /// <summary>Every message the saga consumed, oldest first, with the state before and after and what it sent (ADR 0015).</summary>
    static async Task<Results<Ok<SagaMessagesResponse>, NotFound>> GetMessages(Guid orderId, SagasDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.RecordedMessages.AsNoTracking().Where(x => x.OrderId == orderId).OrderBy(x => x.Id).ToListAsync(cancellationToken);
        if (rows.Count == 0 && !await db.OrderStates.AnyAsync(x => x.CorrelationId == orderId, cancellationToken))
            return TypedResults.NotFound();

        var messages = rows.Select((row, index) =>
        {
            var before = Json(row.StateBefore);
            var after = Json(row.StateAfter);
            return new SagaMessageResponse(index, row.At, row.MessageId, row.MessageType, StateOf(before), StateOf(after),
                Json(row.Body), Json(row.Headers), before, after, Json(row.Sent));
        }).ToArray();
        return TypedResults.Ok(new SagaMessagesResponse(orderId, messages));
    }

    static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    // A saga created by the message has no state yet: MassTransit's name for that is Initial.
    static string StateOf(JsonElement saga) =>
        saga.TryGetProperty("currentState", out var state) && state.GetString() is { Length: > 0 } name ? name : "Initial";

    /// <summary>
    /// What operators ask: how many sagas per state, which ones, and which are stuck (not ended and unchanged for
    /// <c>stuckAfterSeconds</c>, default 60). A state is named as the state machine names it, in any letter case.
    /// </summary>
    static async Task<Results<Ok<SagaListResponse>, ValidationProblem>> ListSagas(
        string? state, int? limit, bool? stuck, int? stuckAfterSeconds, [AsParameters] SagaFilter filter, SagaStateMachine<OrderState> machine,
        SagasDbContext db, StuckSagas stuckSagas, OrdersClient orders, HttpContext http, ILogger<SagaListResponse> logger,
        CancellationToken cancellationToken)
    {
        var stateNames = machine.States.Select(x => x.Name).ToArray();
        var knownState = state is null ? null : stateNames.FirstOrDefault(name => string.Equals(name, state, StringComparison.OrdinalIgnoreCase));
        var validation = new Validation()
            .Require(state is null || knownState is not null, "state", $"must be one of {string.Join(", ", stateNames)}")
            .Require(limit is null or (>= 1 and <= 1000), "limit", "must be between 1 and 1000")
            .Require(stuckAfterSeconds is null or (>= 1 and <= MaxStuckAfterSeconds), "stuckAfterSeconds", $"must be between 1 and {MaxStuckAfterSeconds}");
        filter.Validate(validation);
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

        query = filter.Apply(query);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(x => x.UpdatedAt).ThenBy(x => x.CorrelationId).Skip(filter.Offset ?? 0).Take(limit ?? 50)
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

        return TypedResults.Ok(new SagaListResponse(items, counts, stuckList.Count, counts.GetValueOrDefault(NeedsOperatorState), stuckItems,
            total, filter.Offset ?? 0));
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
