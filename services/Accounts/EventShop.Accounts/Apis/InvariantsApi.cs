using EventShop.Accounts.Infrastructure;
using EventShop.Messaging.Hosting.Invariants;
using EventShop.Messaging.Hosting.Redelivery;
using EventShop.Messaging.Outbox;
using EventShop.ServiceDefaults;
using EventShop.ServiceDefaults.Invariants;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EventShop.Accounts.Apis;

/// <summary>
/// What Accounts answers for in the continuous invariant check (ADR 0013): every balance is the sum of its ledger, no order's
/// ledger contradicts itself, every settled order's entries sum to zero (money only moved between accounts; it enters or
/// leaves from outside only by an opening balance or an operator's adjustment), and, for the gateway to compare with Orders,
/// what each merchant was credited and each customer paid over settled orders.
/// </summary>
public static class InvariantsApi
{
    public static IEndpointRouteBuilder MapInvariantsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/internal/invariants", Report).RequireAuthorization(Policies.Operator).ExcludeFromDescription();
        return app;
    }

    /// <summary>The entries of no order: money entering or leaving from outside, not moved by the saga.</summary>
    const string External = "('Opening', 'Adjustment')";

    /// <summary>
    /// The orders of the cut: every order with a ledger entry, unless the gateway named it as in flight or it has an entry
    /// after the cut (it started after Orders answered).
    /// </summary>
    const string Settled = $"""
        settled AS (
            SELECT "OrderId" FROM accounts.ledger_entries WHERE "Type" NOT IN {External}
            GROUP BY "OrderId" HAVING max("CreatedAt") <= $2 AND NOT ("OrderId" = ANY($1)))
        """;

    static async Task<Results<Ok<InvariantReport>, ValidationProblem>> Report(HttpRequest request, AccountsDbContext db,
        IOptions<OutboxRelayOptions> outbox, ErrorQueueCensus errorQueues, CancellationToken cancellationToken)
    {
        var (cut, problem) = await InvariantSnapshot.ReadRequestAsync(request);
        if (problem is not null)
            return problem;
        object[] parameters = [cut!.Unsettled ?? [], cut.SettledBefore!.Value];

        await using var snapshot = await InvariantSnapshot.BeginAsync(db, cancellationToken);

        await snapshot.CheckNoneAsync("accounts.balances-match-ledger", "every account's balance is the sum of its ledger",
            "balance differs from the sum of the ledger", """
            SELECT a."AccountId", 'balance ' || a."Balance" || ', ledger ' || coalesce(l.total, 0)
            FROM accounts.accounts a
            LEFT JOIN (SELECT "AccountId", sum("Amount") AS total FROM accounts.ledger_entries GROUP BY "AccountId") l
                ON l."AccountId" = a."AccountId"
            WHERE a."Balance" <> coalesce(l.total, 0)
            ORDER BY a."AccountId"
            """, cancellationToken);

        // A step that moved money after its undo's void marker, or an undo that did not return exactly what its step moved (ADR 0004).
        await snapshot.CheckNoneAsync("accounts.ledger-consistent", "no order's ledger entries contradict each other",
            "order ledger contradicts itself", $"""
            SELECT "OrderId", string_agg("Type" || ' ' || "Amount", ', ' ORDER BY "Id")
            FROM accounts.ledger_entries WHERE "Type" NOT IN {External}
            GROUP BY "OrderId"
            HAVING (bool_or("Type" = 'Debit') AND bool_or("Type" = 'DebitVoided'))
                OR (bool_or("Type" = 'Credit') AND bool_or("Type" = 'CreditVoided'))
                OR (bool_or("Type" = 'Refund') AND bool_or("Type" = 'Debit')
                    AND abs(sum("Amount") FILTER (WHERE "Type" = 'Refund')) <> abs(sum("Amount") FILTER (WHERE "Type" = 'Debit')))
                OR (bool_or("Type" = 'CreditReversal') AND bool_or("Type" = 'Credit')
                    AND abs(sum("Amount") FILTER (WHERE "Type" = 'CreditReversal')) <> abs(sum("Amount") FILTER (WHERE "Type" = 'Credit')))
            ORDER BY "OrderId"
            """, cancellationToken);

        var balances = await snapshot.ScalarAsync("""SELECT coalesce(sum("Balance"), 0) FROM accounts.accounts""", cancellationToken);
        var opening = await snapshot.ScalarAsync("""SELECT coalesce(sum("Amount"), 0) FROM accounts.ledger_entries WHERE "Type" = 'Opening'""", cancellationToken);
        var adjustments = await snapshot.ScalarAsync("""SELECT coalesce(sum("Amount"), 0) FROM accounts.ledger_entries WHERE "Type" = 'Adjustment'""", cancellationToken);
        var inFlight = await snapshot.ScalarAsync($"""
            WITH {Settled}
            SELECT coalesce(sum(e."Amount"), 0) FROM accounts.ledger_entries e
            WHERE e."Type" NOT IN {External} AND e."OrderId" NOT IN (SELECT "OrderId" FROM settled)
            """, cancellationToken, parameters);
        await snapshot.CheckNoneAsync("accounts.money-conserved",
            $"money only moved between accounts: balances {balances} = opening balances {opening} + adjustments {adjustments} + in flight {inFlight}",
            "settled order whose entries do not sum to zero", $"""
            WITH {Settled}
            SELECT e."OrderId", 'net ' || sum(e."Amount") FROM accounts.ledger_entries e JOIN settled USING ("OrderId")
            GROUP BY e."OrderId" HAVING sum(e."Amount") <> 0
            ORDER BY e."OrderId"
            """, cancellationToken, parameters);

        await snapshot.TotalsAsync("creditedByMerchant", $"""
            WITH {Settled}
            SELECT e."AccountId", sum(e."Amount") FROM accounts.ledger_entries e JOIN settled USING ("OrderId")
            WHERE e."Type" IN ('Credit', 'CreditReversal')
            GROUP BY e."AccountId" HAVING sum(e."Amount") <> 0
            """, cancellationToken, parameters);
        await snapshot.TotalsAsync("paidByCustomer", $"""
            WITH {Settled}
            SELECT e."AccountId", -sum(e."Amount") FROM accounts.ledger_entries e JOIN settled USING ("OrderId")
            WHERE e."Type" IN ('Debit', 'Refund')
            GROUP BY e."AccountId" HAVING sum(e."Amount") <> 0
            """, cancellationToken, parameters);

        await snapshot.CheckNothingParkedAsync("accounts", outbox.Value.MaxAttempts, cancellationToken);
        snapshot.CheckNoMessageForAnOperator("accounts", errorQueues);
        return TypedResults.Ok(snapshot.Report());
    }
}
