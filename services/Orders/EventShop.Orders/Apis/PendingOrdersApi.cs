using EventShop.Orders.Infrastructure;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Orders.Apis;

public sealed record PendingOrderResponse(Guid OrderId, DateTimeOffset CreatedAt, double PendingSeconds);

/// <summary>
/// Orders answers for its own Pending orders: which have waited longer than a budget, measured by the database's now(), so
/// the saga host can name those that have no saga at all in its stuck list.
/// </summary>
public static class PendingOrdersApi
{
    const int MaxOlderThanSeconds = 7 * 24 * 3600;

    public static IEndpointRouteBuilder MapPendingOrdersApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/orders/pending", ListPending).WithTags("Orders").RequireAuthorization(Policies.Operator);
        return app;
    }

    static async Task<Results<Ok<PendingOrderResponse[]>, ValidationProblem>> ListPending(int? olderThanSeconds, int? limit, OrdersDbContext db,
        CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Require(olderThanSeconds is null or (>= 0 and <= MaxOlderThanSeconds), "olderThanSeconds", $"must be between 0 and {MaxOlderThanSeconds}")
            .Require(limit is null or (>= 1 and <= 1000), "limit", "must be between 1 and 1000");
        if (!validation.IsValid)
            return validation.ToProblem();

        var olderThan = TimeSpan.FromSeconds(olderThanSeconds ?? 0);
        var take = limit ?? 100;
        var pending = await db.Database.SqlQuery<PendingRow>($"""
                SELECT "OrderId", "CreatedAt", EXTRACT(EPOCH FROM now() - "CreatedAt")::float8 AS "PendingSeconds"
                FROM orders.orders
                WHERE "Status" = 'Pending' AND "CreatedAt" < now() - {olderThan}
                ORDER BY "CreatedAt"
                LIMIT {take}
                """)
            .ToArrayAsync(cancellationToken);
        return TypedResults.Ok(pending.Select(x => new PendingOrderResponse(x.OrderId, x.CreatedAt, x.PendingSeconds)).ToArray());
    }

    sealed class PendingRow
    {
        public Guid OrderId { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
        public double PendingSeconds { get; init; }
    }
}
