using System.Diagnostics;
using System.Net;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>GET /api/invariants: the gateway's continuous check, composed from what each service answers for its own data.</summary>
[Collection(InvariantsCollection.Name)]
public sealed class InvariantsTests(EventShopSystem system)
{
    static readonly string[] EveryCheck =
    [
        "orders.nothing-pending-past-budget", "orders.outbox-nothing-parked", "orders.error-queues-nothing-parked",
        "accounts.balances-match-ledger", "accounts.ledger-consistent", "accounts.money-conserved", "accounts.outbox-nothing-parked",
        "accounts.error-queues-nothing-parked",
        "points.balances-match-ledger", "points.outbox-nothing-parked", "points.error-queues-nothing-parked",
        "sagas.nothing-stuck-past-budget", "sagas.no-compensation-failed", "sagas.outbox-nothing-parked", "sagas.error-queues-nothing-parked",
        "merchants-credited-completed-totals", "customers-paid-completed-totals", "points-match-completed-orders",
        "order-status-matches-saga-outcome",
    ];

    readonly ShopClient _shop = new(system);

    /// <summary>Completed orders, and orders cancelled at each step: unpaid, merchant frozen (refund), member suspended (both undone).</summary>
    async Task<OrderView[]> SettledOrdersOfEveryKindAsync()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(customerBalance: 500m);
        var (poor, _) = await _shop.OpenCustomerAndMerchantAsync(customerBalance: 1m);
        var (_, frozenMerchant) = await _shop.OpenCustomerAndMerchantAsync();
        var (suspended, _) = await _shop.OpenCustomerAndMerchantAsync();
        await _shop.OperatorPostAsync($"/api/accounts/{frozenMerchant}/freeze");
        await _shop.OperatorPostAsync($"/api/points/{suspended}/suspend");

        var orders = new List<Task<Guid>>();
        for (var i = 0; i < 6; i++)
            orders.Add(_shop.SubmitOrderAsync(customer, merchant, unitPrice: 10.75m + i));
        orders.Add(_shop.SubmitOrderAsync(poor, merchant, unitPrice: 20m));
        orders.Add(_shop.SubmitOrderAsync(customer, frozenMerchant, unitPrice: 5m));
        orders.Add(_shop.SubmitOrderAsync(suspended, merchant, unitPrice: 7.50m));
        var ids = await Task.WhenAll(orders);
        return await Task.WhenAll(ids.Select(id => _shop.WaitForOutcomeAsync(id)));
    }

    [Fact]
    public async Task When_orders_complete_and_are_rejected_Should_report_every_invariant_ok()
    {
        var settled = await SettledOrdersOfEveryKindAsync();

        var verdict = await Invariants.FreshVerdictAsync(system);

        Assert.Equal(6, settled.Count(x => x.Status == "Completed"));
        Assert.Equal(3, settled.Count(x => x.Status == "Cancelled"));
        Assert.True(verdict.Ok, string.Join("; ", verdict.Checks.Where(x => !x.Ok).Select(x => $"{x.Name}: {x.Detail}")));
        Assert.Equal(EveryCheck.Order(), verdict.Checks.Select(x => x.Name).Order());
        Assert.All(verdict.Checks, check => Assert.False(string.IsNullOrWhiteSpace(check.Detail)));
    }

    [Fact]
    public async Task When_orders_are_in_flight_Should_not_fail_any_check()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(customerBalance: 10_000m);
        await Invariants.AssertInvariantsHoldAsync(system);

        // Orders start, move money and end while the check runs every second: every verdict seen meanwhile must hold.
        var verdicts = new List<InvariantVerdictView>();
        using var operatorClient = system.Operator();
        var traffic = Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100 * i));
            return await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 3.30m));
        }));
        while (!traffic.IsCompleted)
        {
            verdicts.Add(await operatorClient.GetJsonAsync<InvariantVerdictView>("/api/invariants"));
            await Task.WhenAny(traffic, Task.Delay(TimeSpan.FromMilliseconds(300)));
        }

        Assert.All(await traffic, order => Assert.Equal("Completed", order.Status));
        var distinct = verdicts.DistinctBy(x => x.CheckedAt).ToList();
        Assert.True(distinct.Count >= 3, $"only {distinct.Count} runs of the check were seen during the traffic");
        Assert.All(distinct, verdict => Assert.True(verdict.Ok,
            $"{verdict.CheckedAt:O}: " + string.Join("; ", verdict.Checks.Where(x => !x.Ok).Select(x => $"{x.Name}: {x.Detail}"))));
    }

    [Fact]
    public async Task When_a_balance_is_changed_behind_its_ledger_Should_fail_that_check_and_name_the_account()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 10m));
        var accounts = system.ConnectionString("Accounts");
        var plant = $"""UPDATE accounts.accounts SET "Balance" = "Balance" + 5 WHERE "AccountId" = '{customer}'""";
        var repair = $"""UPDATE accounts.accounts SET "Balance" = "Balance" - 5 WHERE "AccountId" = '{customer}'""";

        await Invariants.ScalarAsync(accounts, plant);
        try
        {
            var verdict = await Invariants.FreshVerdictAsync(system);

            Assert.False(verdict.Ok);
            var failed = Assert.Single(verdict.Checks, x => !x.Ok);
            Assert.Equal("accounts.balances-match-ledger", failed.Name);
            Assert.Contains($"{customer} (balance 95.00, ledger 90.00)", failed.Detail, StringComparison.Ordinal);
        }
        finally
        {
            await Invariants.ScalarAsync(accounts, repair);
        }

        await Invariants.AssertInvariantsHoldAsync(system);
    }

    /// <summary>The battery's common ending (Settlement.AssertSettledAsync) can fail: a balance changed behind its ledger turns it red.</summary>
    [Fact]
    public async Task When_the_books_are_wrong_Should_fail_the_battery_ending_and_name_the_check()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 10m));
        await system.AssertSettledAsync();
        var accounts = system.ConnectionString("Accounts");

        await Invariants.ScalarAsync(accounts, $"""UPDATE accounts.accounts SET "Balance" = "Balance" + 5 WHERE "AccountId" = '{customer}'""");
        try
        {
            var failure = await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(() => system.AssertSettledAsync());
            Assert.Contains("accounts.balances-match-ledger", failure.Message, StringComparison.Ordinal);
            Assert.Contains(customer, failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            await Invariants.ScalarAsync(accounts, $"""UPDATE accounts.accounts SET "Balance" = "Balance" - 5 WHERE "AccountId" = '{customer}'""");
        }

        await system.AssertSettledAsync();
    }

    [Fact]
    public async Task When_a_points_ledger_row_is_deleted_Should_fail_the_points_checks_and_name_the_member()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        var order = await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 12.40m));
        Assert.Equal("Completed", order.Status);
        var points = system.ConnectionString("Points");
        var entry = $"""FROM points.points_entries WHERE "OrderId" = '{order.OrderId}' AND "Type" = 'Accrual'""";
        var id = await Invariants.ScalarAsync(points, $"""SELECT "Id" {entry}""");
        var createdAt = await Invariants.ScalarAsync(points, $"""SELECT (extract(epoch FROM "CreatedAt") * 1000000)::bigint {entry}""");

        await Invariants.ScalarAsync(points, $"DELETE {entry}");
        try
        {
            // Orders counts an order as settled once it has been unchanged for twice the clock tolerance (ADR 0013); until then
            // the comparison leaves it out, so wait for the run that includes it.
            var verdict = await Invariants.FreshVerdictAsync(system);
            var waited = Stopwatch.StartNew();
            while (verdict.Checks.Any(x => x.Name == "points-match-completed-orders" && x.Ok) && waited.Elapsed < TimeSpan.FromSeconds(30))
                verdict = await Invariants.FreshVerdictAsync(system);

            var failed = verdict.Checks.Where(x => !x.Ok).ToDictionary(x => x.Name, x => x.Detail);
            Assert.Equal(["points-match-completed-orders", "points.balances-match-ledger"], failed.Keys.Order(StringComparer.Ordinal));
            Assert.Contains($"{customer} (balance 12, ledger 0)", failed["points.balances-match-ledger"], StringComparison.Ordinal);
            Assert.Contains($"{customer}: orders 12, points 0", failed["points-match-completed-orders"], StringComparison.Ordinal);
        }
        finally
        {
            await Invariants.ScalarAsync(points, $"""
                INSERT INTO points.points_entries ("Id", "CustomerId", "OrderId", "Type", "Points", "CreatedAt") OVERRIDING SYSTEM VALUE
                VALUES ({id}, '{customer}', '{order.OrderId}', 'Accrual', 12, to_timestamp({createdAt} / 1000000.0))
                """);
        }

        await Invariants.AssertInvariantsHoldAsync(system);
    }

    [Fact]
    public async Task When_a_customer_or_nobody_asks_Should_be_refused_with_a_problem()
    {
        using var customer = system.Customer(ShopClient.NewId("cust"));
        using var anonymous = system.Client();

        await ProblemAssert.IsProblemAsync(await customer.GetAsync("/api/invariants"), (int)HttpStatusCode.Forbidden, field: null);
        await ProblemAssert.IsProblemAsync(await anonymous.GetAsync("/api/invariants"), (int)HttpStatusCode.Unauthorized, field: null);
    }

    [Fact]
    public async Task When_a_service_is_asked_directly_without_an_operator_token_Should_refuse()
    {
        using var customer = new HttpClient { BaseAddress = system["accounts"].BaseAddress };
        customer.DefaultRequestHeaders.Authorization = new("Bearer", system.Token("someone", "customer"));

        var response = await customer.PostAsync("/internal/invariants", new StringContent("""{"settledBefore":"2026-01-01T00:00:00Z"}""",
            System.Text.Encoding.UTF8, "application/json"));

        await ProblemAssert.IsProblemAsync(response, (int)HttpStatusCode.Forbidden, field: null);
    }
}
