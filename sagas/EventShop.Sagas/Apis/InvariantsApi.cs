using EventShop.Messaging.Hosting.Invariants;
using EventShop.Messaging.Hosting.Redelivery;
using EventShop.Messaging.Outbox;
using EventShop.Sagas.Infrastructure;
using EventShop.Sagas.OrderPlacement;
using EventShop.ServiceDefaults;
using EventShop.ServiceDefaults.Invariants;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EventShop.Sagas.Apis;

/// <summary>
/// What the saga host answers for in the continuous invariant check (ADR 0013): no saga stuck in a state past its budget,
/// none ended in CompensationFailed, and, for the gateway to compare with Orders, each outcome's count and checksum of
/// order ids over the sagas of settled orders.
/// </summary>
public static class InvariantsApi
{
    const string StuckBudgetKey = "Saga:StuckBudget";

    public static IEndpointRouteBuilder MapInvariantsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/internal/invariants", Report).RequireAuthorization(Policies.Operator).ExcludeFromDescription();
        return app;
    }

    static async Task<Results<Ok<InvariantReport>, ValidationProblem>> Report(HttpRequest request, SagasDbContext db,
        IOptions<OutboxRelayOptions> outbox, ErrorQueueCensus errorQueues, IOptions<OrderPlacementOptions> saga, IConfiguration configuration,
        CancellationToken cancellationToken)
    {
        var (cut, problem) = await InvariantSnapshot.ReadRequestAsync(request);
        if (problem is not null)
            return problem;
        // A state is left within its step timeout, or the sweeper raises the timeout again after TimeoutRepeat (ADR 0008);
        // twice the step timeout on top leaves room for a loaded host.
        var budget = configuration.GetValue<TimeSpan?>(StuckBudgetKey) ?? 2 * saga.Value.StepTimeout + saga.Value.TimeoutRepeat;

        await using var snapshot = await InvariantSnapshot.BeginAsync(db, cancellationToken);

        await snapshot.CheckNoneAsync("sagas.nothing-stuck-past-budget", $"no saga has stayed in a state longer than {budget}",
            $"in the same state longer than {budget}", """
            SELECT "CorrelationId", "CurrentState" || ' since ' || to_char("UpdatedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM sagas.order_states
            WHERE "CurrentState" NOT IN ('Completed', 'Cancelled', 'CompensationFailed') AND "UpdatedAt" < now() - $1
            ORDER BY "UpdatedAt"
            """, cancellationToken, budget);

        await snapshot.CheckNoneAsync("sagas.no-compensation-failed", "no saga ended in CompensationFailed",
            "ended in CompensationFailed and needs an operator", """
            SELECT "CorrelationId", coalesce("CompensationFailure", 'no reason recorded')
            FROM sagas.order_states WHERE "CurrentState" = 'CompensationFailed'
            ORDER BY "UpdatedAt"
            """, cancellationToken);

        // Sagas started after Orders answered (created after the cut) are not in its totals either.
        const string Settled = """
            FROM sagas.order_states WHERE "CreatedAt" <= $2 AND NOT ("CorrelationId" = ANY($1))
            """;
        object[] parameters = [cut!.Unsettled ?? [], cut.SettledBefore!.Value];
        await snapshot.TotalsAsync("outcomeCounts",
            $"""SELECT "CurrentState", count(*)::numeric {Settled} GROUP BY "CurrentState" """, cancellationToken, parameters);
        await snapshot.TotalsAsync("outcomeChecksums",
            $"""SELECT "CurrentState", sum(hashtextextended("CorrelationId"::text, 0)) {Settled} GROUP BY "CurrentState" """,
            cancellationToken, parameters);

        await snapshot.CheckNothingParkedAsync("sagas", outbox.Value.MaxAttempts, cancellationToken);
        snapshot.CheckNoMessageForAnOperator("sagas", errorQueues);
        return TypedResults.Ok(snapshot.Report());
    }
}
