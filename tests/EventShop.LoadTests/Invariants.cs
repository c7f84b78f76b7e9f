namespace EventShop.LoadTests;

public sealed record InvariantCheck(string Name, bool Passed, string Detail);

/// <summary>
/// What must hold once every order of the run has ended (API.md, "What the saga guarantees"): checked from the outside,
/// on the run's own accounts, against the outcomes the bench observed.
/// </summary>
public static class Invariants
{
    public static async Task<List<InvariantCheck>> CheckAsync(ShopApi api, string operatorId, Workload workload,
        IReadOnlyDictionary<string, decimal> initialBalances, IReadOnlyList<OrderSample> samples)
    {
        // An order that was still Pending when its phase gave up gets one last look: it is stuck only if it is still Pending now.
        foreach (var sample in samples.Where(s => s.OrderId is not null && s.Status is null or "Pending"))
        {
            try
            {
                sample.Status = (await api.OrderAsync(operatorId, sample.OrderId!.Value)).Status;
            }
            catch (HttpRequestException)
            {
                sample.Status ??= "Unknown";
            }
        }

        var accepted = samples.Where(s => s.OrderId is not null).ToList();
        var completed = accepted.Where(s => s.Status == "Completed").ToList();
        var checks = new List<InvariantCheck>();

        var notAccepted = samples.Count - accepted.Count;
        checks.Add(new("every submission accepted (202)", notAccepted == 0, $"{notAccepted} of {samples.Count} not accepted"));

        var stuck = accepted.Count(s => s.Status is not ("Completed" or "Cancelled"));
        checks.Add(new("every accepted order terminal (none lost or stuck)", stuck == 0, $"{stuck} of {accepted.Count} not Completed/Cancelled"));

        var unexpected = accepted.Count(s => s.Status is "Completed" or "Cancelled" && (s.Status == "Cancelled") != s.ExpectCancelled);
        checks.Add(new("funded customers' orders Completed, unfunded customers' Cancelled", unexpected == 0,
            $"{unexpected} orders with another outcome; {completed.Count} completed, {accepted.Count(s => s.Status == "Cancelled")} cancelled"));

        var balances = new Dictionary<string, decimal>();
        foreach (var accountId in initialBalances.Keys)
            balances[accountId] = (await api.AccountAsync(operatorId, accountId)).Balance;

        var before = initialBalances.Values.Sum();
        var after = balances.Values.Sum();
        checks.Add(new("money conserved across the run's accounts", before == after, $"before {before:0.00}, after {after:0.00}"));

        var completedTotal = completed.Sum(s => s.Total);
        var merchantGain = balances[workload.MerchantId] - initialBalances[workload.MerchantId];
        checks.Add(new("merchant received exactly the completed totals", merchantGain == completedTotal,
            $"merchant +{merchantGain:0.00}, completed orders {completedTotal:0.00}"));

        var customers = workload.FundedCustomers.Concat(workload.UnfundedCustomers).ToList();
        var wrongBalances = customers.Count(c => initialBalances[c] - balances[c] != completed.Where(s => s.CustomerId == c).Sum(s => s.Total));
        checks.Add(new("each customer paid exactly the totals of its completed orders", wrongBalances == 0,
            $"{wrongBalances} of {customers.Count} customers off"));

        long expectedPoints = 0, actualPoints = 0;
        var wrongPoints = 0;
        foreach (var customer in customers)
        {
            var expected = completed.Where(s => s.CustomerId == customer).Sum(s => (long)decimal.Floor(s.Total));
            var actual = (await api.PointsAsync(operatorId, customer)).Balance;
            expectedPoints += expected;
            actualPoints += actual;
            if (expected != actual)
                wrongPoints++;
        }

        checks.Add(new("points == sum of floor(total) of completed orders, per customer", wrongPoints == 0,
            $"expected {expectedPoints}, found {actualPoints}; {wrongPoints} customers off"));
        return checks;
    }
}
