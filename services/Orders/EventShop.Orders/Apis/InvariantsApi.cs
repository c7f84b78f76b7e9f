using EventShop.Messaging.Hosting.Invariants;
using EventShop.Messaging.Hosting.Redelivery;
using EventShop.Messaging.Outbox;
using EventShop.Orders.Infrastructure;
using EventShop.ServiceDefaults;
using EventShop.ServiceDefaults.Invariants;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EventShop.Orders.Apis;

/// <summary>
/// What Orders answers for in the continuous invariant check (ADR 0013). Orders decides the cut: an order is settled once it
/// is Completed or Cancelled and has not changed since <see cref="InvariantsRequest.SettledBefore"/>; every other order it
/// names as unsettled, for Accounts, Points and the saga host to leave out. Over settled orders it gives the totals the
/// gateway compares with theirs: completed totals per merchant and per customer, floor(total) per customer, and each
/// outcome's count and checksum of order ids.
/// </summary>
public static class InvariantsApi
{
    const string PendingBudgetKey = "Orders:Invariants:PendingBudget";

    /// <summary>Longer than any order takes when every step times out and each compensation uses its whole budget (ADR 0008).</summary>
    static readonly TimeSpan DefaultPendingBudget = TimeSpan.FromMinutes(10);

    public static IEndpointRouteBuilder MapInvariantsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/internal/invariants", Report).RequireAuthorization(Policies.Operator).ExcludeFromDescription();
        return app;
    }

    static async Task<Results<Ok<InvariantReport>, ValidationProblem>> Report(HttpRequest request, OrdersDbContext db,
        IOptions<OutboxRelayOptions> outbox, ErrorQueueCensus errorQueues, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var (cut, problem) = await InvariantSnapshot.ReadRequestAsync(request);
        if (problem is not null)
            return problem;
        var settledBefore = cut!.SettledBefore!.Value;
        var budget = configuration.GetValue(PendingBudgetKey, DefaultPendingBudget);

        await using var snapshot = await InvariantSnapshot.BeginAsync(db, cancellationToken);

        var unsettled = await snapshot.OrderIdsAsync("""
            SELECT "OrderId" FROM orders.orders WHERE "Status" = 'Pending' OR "UpdatedAt" > $1
            """, cancellationToken, settledBefore);

        // The database's clock, as the reconciler's budget (ADR 0008).
        await snapshot.CheckNoneAsync("orders.nothing-pending-past-budget", $"no order has been Pending longer than {budget}",
            $"Pending longer than {budget}", """
            SELECT "OrderId", 'since ' || to_char("CreatedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM orders.orders WHERE "Status" = 'Pending' AND "CreatedAt" < now() - $1
            ORDER BY "CreatedAt"
            """, cancellationToken, budget);

        const string Settled = """FROM orders.orders WHERE "Status" <> 'Pending' AND "UpdatedAt" <= $1""";
        await snapshot.TotalsAsync("completedByMerchant",
            $"""SELECT "MerchantId", sum("Total") {Settled} AND "Status" = 'Completed' GROUP BY "MerchantId" """, cancellationToken, settledBefore);
        await snapshot.TotalsAsync("completedByCustomer",
            $"""SELECT "CustomerId", sum("Total") {Settled} AND "Status" = 'Completed' GROUP BY "CustomerId" """, cancellationToken, settledBefore);
        await snapshot.TotalsAsync("pointsByCustomer",
            $"""SELECT "CustomerId", sum(floor("Total")) {Settled} AND "Status" = 'Completed' AND floor("Total") > 0 GROUP BY "CustomerId" """,
            cancellationToken, settledBefore);
        await snapshot.TotalsAsync("outcomeCounts",
            $"""SELECT "Status", count(*)::numeric {Settled} GROUP BY "Status" """, cancellationToken, settledBefore);
        await snapshot.TotalsAsync("outcomeChecksums",
            $"""SELECT "Status", sum(hashtextextended("OrderId"::text, 0)) {Settled} GROUP BY "Status" """, cancellationToken, settledBefore);

        await snapshot.CheckNothingParkedAsync("orders", outbox.Value.MaxAttempts, cancellationToken);
        snapshot.CheckNoMessageForAnOperator("orders", errorQueues);
        return TypedResults.Ok(snapshot.Report(unsettled));
    }
}
