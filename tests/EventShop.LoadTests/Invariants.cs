namespace EventShop.LoadTests;

public sealed record InvariantCheck(string Name, bool Passed, string Detail);

/// <summary>
/// What must hold once every order of the run has ended (docs/api.md, "What the saga promises, seen from outside"), checked from the outside on the
/// run's own accounts. The orders come from the server's own listing per customer, not only from what the client saw, so an
/// order whose submit timed out on the client (but was stored) is still accounted for.
/// </summary>
public static class Invariants
{
    /// <summary>The most GET /api/orders returns; a customer with this many orders cannot be fully listed, and the check says so.</summary>
    const int ListingLimit = 500;

    public static async Task<List<InvariantCheck>> CheckAsync(ShopApi api, string operatorId, Workload workload,
        IReadOnlyDictionary<string, decimal> initialBalances, IReadOnlyList<OrderSample> samples, TimeSpan settleTimeout)
    {
        var customers = workload.FundedCustomers.Concat(workload.UnfundedCustomers).ToList();

        // Money is legitimately "in flight" while a saga runs (debited, not yet credited): check only once nothing is Pending,
        // waiting at most settleTimeout. An order still Pending after that (well past the saga's step timeouts) is stuck.
        var settleDeadline = DateTimeOffset.UtcNow + settleTimeout;
        List<OrderView> serverOrders;
        int truncated;
        while (true)
        {
            (serverOrders, truncated) = await ListAllAsync(api, operatorId, customers);
            var pending = serverOrders.Count(o => o.Status == "Pending");
            if (pending == 0 || DateTimeOffset.UtcNow > settleDeadline)
                break;
            Console.WriteLine($"waiting for {pending} pending orders to end before checking invariants");
            await Task.Delay(TimeSpan.FromSeconds(3));
        }

        var checks = new List<InvariantCheck>();
        checks.Add(new("every customer's orders listed in full", truncated == 0,
            truncated == 0 ? $"{serverOrders.Count} orders" : $"{truncated} customers have {ListingLimit}+ orders; use more --customers"));

        var notAccepted = samples.Count(s => s.OrderId is null);
        checks.Add(new("every submission accepted (202)", notAccepted == 0, $"{notAccepted} of {samples.Count} not accepted by the client's clock"));

        var known = serverOrders.Select(o => o.OrderId).ToHashSet();
        var lost = samples.Count(s => s.OrderId is { } id && !known.Contains(id));
        checks.Add(new("no accepted order lost", lost == 0, $"{lost} orders answered 202 but unknown to the Orders service"));

        var stuck = serverOrders.Count(o => o.Status is not ("Completed" or "Cancelled"));
        checks.Add(new("every order terminal (none stuck)", stuck == 0, $"{stuck} of {serverOrders.Count} not Completed/Cancelled"));

        var unfunded = workload.UnfundedCustomers.ToHashSet();
        var completed = serverOrders.Where(o => o.Status == "Completed").ToList();
        var unexpected = serverOrders.Count(o => o.Status is "Completed" or "Cancelled" && (o.Status == "Cancelled") != unfunded.Contains(o.CustomerId));
        checks.Add(new("funded customers' orders Completed, unfunded customers' Cancelled", unexpected == 0,
            $"{unexpected} orders with another outcome; {completed.Count} completed, {serverOrders.Count(o => o.Status == "Cancelled")} cancelled"));

        var balances = new Dictionary<string, decimal>();
        foreach (var accountId in initialBalances.Keys)
            balances[accountId] = (await api.AccountAsync(operatorId, accountId)).Balance;

        var before = initialBalances.Values.Sum();
        var after = balances.Values.Sum();
        checks.Add(new("money conserved across the run's accounts", before == after, $"before {before:0.00}, after {after:0.00}"));

        var completedTotal = completed.Sum(o => o.Total);
        var merchantGain = balances[workload.MerchantId] - initialBalances[workload.MerchantId];
        checks.Add(new("merchant received exactly the completed totals", merchantGain == completedTotal,
            $"merchant +{merchantGain:0.00}, completed orders {completedTotal:0.00}"));

        var wrongBalances = customers.Count(c => initialBalances[c] - balances[c] != completed.Where(o => o.CustomerId == c).Sum(o => o.Total));
        checks.Add(new("each customer paid exactly the totals of its completed orders", wrongBalances == 0,
            $"{wrongBalances} of {customers.Count} customers off"));

        long expectedPoints = 0, actualPoints = 0;
        var wrongPoints = 0;
        foreach (var customer in customers)
        {
            var expected = completed.Where(o => o.CustomerId == customer).Sum(o => (long)decimal.Floor(o.Total));
            var actual = (await api.PointsAsync(operatorId, customer)).Balance;
            expectedPoints += expected;
            actualPoints += actual;
            if (expected != actual)
                wrongPoints++;
        }

        checks.Add(new("points == sum of floor(total) of completed orders, per customer", wrongPoints == 0,
            $"expected {expectedPoints}, found {actualPoints}; {wrongPoints} customers off"));

        var pointsMatchOrders = completed.Count(o => o.PointsAccrued != (long)decimal.Floor(o.Total));
        checks.Add(new("each completed order reports pointsAccrued == floor(total)", pointsMatchOrders == 0, $"{pointsMatchOrders} orders off"));
        return checks;
    }

    static async Task<(List<OrderView> Orders, int Truncated)> ListAllAsync(ShopApi api, string operatorId, IEnumerable<string> customers)
    {
        var orders = new List<OrderView>();
        var truncated = 0;
        foreach (var customer in customers)
        {
            var listed = await api.CustomerOrdersAsync(operatorId, customer, ListingLimit);
            truncated += listed.Length >= ListingLimit ? 1 : 0;
            orders.AddRange(listed);
        }

        return (orders, truncated);
    }
}
