using EventShop.Sagas.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EventShop.Sagas.OrderPlacement;

public sealed class StuckOptions
{
    public const string Section = "Saga:Stuck";

    /// <summary>Added to a state's step timeout to make its budget: a reply may arrive, or a timeout be raised, a little late.</summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Budgets per state that replace "step timeout plus grace", e.g. <c>Saga:Stuck:Budgets:Refunding=00:05:00</c>.</summary>
    public Dictionary<string, TimeSpan> Budgets { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>A saga over its state's budget, and why.</summary>
public sealed record StuckSaga(Guid OrderId, string State, TimeSpan InState, TimeSpan Budget, int StepAttempts, string Reason);

/// <summary>
/// "Stuck", defined: a saga not ended whose time in its current state, on the database's clock (ADR 0008), exceeds that
/// state's budget (its step timeout plus a grace, or a configured budget); a saga in CompensationFailed is stuck at once,
/// since only an operator moves it on.
/// </summary>
public sealed class StuckSagas(SagasDbContext db, IOptions<OrderPlacementOptions> placement, IOptions<StuckOptions> options)
{
    static readonly string[] EndedStates = ["Completed", "Cancelled"];
    const string NeedsOperatorState = "CompensationFailed";

    public TimeSpan BudgetOf(string state) =>
        state == NeedsOperatorState ? TimeSpan.Zero
        : options.Value.Budgets.TryGetValue(state, out var budget) ? budget
        : placement.Value.StepTimeout + options.Value.Grace;

    /// <summary>The budget every state has at least: with a uniform override (<paramref name="budget"/>), that one.</summary>
    public async Task<IReadOnlyList<StuckSaga>> FindAsync(TimeSpan? budget, int limit, CancellationToken cancellationToken)
    {
        var smallest = budget ?? TimeSpan.Zero;
        var candidates = await db.Database.SqlQuery<Candidate>($"""
                SELECT "CorrelationId" AS "OrderId", "CurrentState" AS "State", now() - "StateEnteredAt" AS "InState", "StepAttempts",
                       "FailureReason", "CompensationFailure"
                FROM sagas.order_states
                WHERE "CurrentState" <> ALL({EndedStates}) AND "StateEnteredAt" < now() - {smallest}
                ORDER BY "StateEnteredAt"
                """)
            .ToListAsync(cancellationToken);

        var stuck = new List<StuckSaga>();
        foreach (var saga in candidates)
        {
            var stateBudget = budget ?? BudgetOf(saga.State);
            if (saga.InState <= stateBudget && saga.State != NeedsOperatorState)
                continue;
            stuck.Add(new StuckSaga(saga.OrderId, saga.State, saga.InState, stateBudget, saga.StepAttempts, Reason(saga, stateBudget)));
            if (stuck.Count == limit)
                break;
        }
        return stuck;
    }

    static string Reason(Candidate saga, TimeSpan budget) => saga.State == NeedsOperatorState
        ? $"Compensation gave up and waits for an operator: {saga.CompensationFailure ?? "no reason recorded"}"
        : $"In {saga.State} for {Seconds(saga.InState)} s, over its budget of {Seconds(budget)} s (attempt {saga.StepAttempts}" +
          (saga.FailureReason is null ? ")" : $"; compensating because: {saga.FailureReason})");

    static string Seconds(TimeSpan time) => ((long)time.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);

    sealed class Candidate
    {
        public Guid OrderId { get; init; }
        public string State { get; init; } = "";
        public TimeSpan InState { get; init; }
        public int StepAttempts { get; init; }
        public string? FailureReason { get; init; }
        public string? CompensationFailure { get; init; }
    }
}
