using EventShop.Messaging.Hosting.Invariants;
using EventShop.Messaging.Hosting.Redelivery;
using EventShop.Messaging.Outbox;
using EventShop.Points.Infrastructure;
using EventShop.ServiceDefaults;
using EventShop.ServiceDefaults.Invariants;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EventShop.Points.Apis;

/// <summary>
/// What Points answers for in the continuous invariant check (ADR 0013): every member's balance is the sum of its ledger,
/// and, for the gateway to compare with Orders, the points each member holds from settled orders.
/// </summary>
public static class InvariantsApi
{
    public static IEndpointRouteBuilder MapInvariantsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/internal/invariants", Report).RequireAuthorization(Policies.Operator).ExcludeFromDescription();
        return app;
    }

    static async Task<Results<Ok<InvariantReport>, ValidationProblem>> Report(HttpRequest request, PointsDbContext db,
        IOptions<OutboxRelayOptions> outbox, ErrorQueueCensus errorQueues, CancellationToken cancellationToken)
    {
        var (cut, problem) = await InvariantSnapshot.ReadRequestAsync(request);
        if (problem is not null)
            return problem;

        await using var snapshot = await InvariantSnapshot.BeginAsync(db, cancellationToken);

        await snapshot.CheckNoneAsync("points.balances-match-ledger", "every member's balance is the sum of its ledger",
            "balance differs from the sum of the ledger", """
            SELECT m."CustomerId", 'balance ' || m."Balance" || ', ledger ' || coalesce(l.total, 0)
            FROM points.members m
            LEFT JOIN (SELECT "CustomerId", sum("Points") AS total FROM points.points_entries GROUP BY "CustomerId") l
                ON l."CustomerId" = m."CustomerId"
            WHERE m."Balance" <> coalesce(l.total, 0)
            ORDER BY m."CustomerId"
            """, cancellationToken);

        // Orders in flight (named by the gateway, or with an entry after the cut) are left out, as in Accounts.
        await snapshot.TotalsAsync("pointsByCustomer", """
            WITH settled AS (
                SELECT "OrderId" FROM points.points_entries
                GROUP BY "OrderId" HAVING max("CreatedAt") <= $2 AND NOT ("OrderId" = ANY($1)))
            SELECT e."CustomerId", sum(e."Points")::numeric FROM points.points_entries e JOIN settled USING ("OrderId")
            GROUP BY e."CustomerId" HAVING sum(e."Points") <> 0
            """, cancellationToken, cut!.Unsettled ?? [], cut.SettledBefore!.Value);

        await snapshot.CheckNothingParkedAsync("points", outbox.Value.MaxAttempts, cancellationToken);
        snapshot.CheckNoMessageForAnOperator("points", errorQueues);
        return TypedResults.Ok(snapshot.Report());
    }
}
