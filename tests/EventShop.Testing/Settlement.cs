using System.Diagnostics;
using Xunit;

namespace EventShop.Testing;

/// <summary>
/// The end of every battery test (issue 22): whatever the fault was, the whole system settles. Every order terminal, the
/// outboxes drained, no contradictory ledger, no message parked in an error or skipped queue but those the test parked on
/// purpose (which the invariants must name; they are then discarded, as an operator would), and a run of
/// <c>GET /api/invariants</c> that started after all of that, and so counts every order, all ok.
/// </summary>
public static class Settlement
{
    static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Asserts the settled end state. <paramref name="parked"/> names the messages the test parks on purpose, queue by queue:
    /// those queues must hold exactly that many (any number, for a null count: a fault whose timing decides how many messages
    /// run out of retries, the test saying why), every other <c>_error</c> and <c>_skipped</c> queue none.
    /// </summary>
    public static async Task AssertSettledAsync(this EventShopSystem system, params (string Queue, long? Messages)[] parked)
    {
        var waited = Stopwatch.StartNew();
        await EventuallyAsync(async () => await Invariants.ScalarAsync(system.ConnectionString("Orders"),
            """SELECT count(*) FROM orders.orders WHERE "Status" NOT IN ('Completed', 'Cancelled')""") == 0, waited,
            "orders still not Completed or Cancelled", () => StuckOrderReport.DescribeAsync(system));
        await EventuallyAsync(async () => await Invariants.PendingOutboxMessagesAsync(system) == 0, waited, "outboxes did not drain");
        Assert.Equal(0, await Invariants.ContradictoryLedgerEntriesAsync(system));

        // Eventually: a message that failed for a transient cause is delivered again by its service a little later (ADR 0008
        // point 9), after its order has settled through the deadlines.
        var expected = parked.ToDictionary(p => p.Queue, p => p.Messages);
        var found = await system.ParkedMessagesAsync();
        while (!(found.Keys.All(expected.ContainsKey) && expected.All(p => p.Value is null || found.GetValueOrDefault(p.Key) == p.Value)))
        {
            Assert.True(waited.Elapsed < SettleTimeout,
                $"parked messages after {waited.Elapsed.TotalSeconds:F0} s: expected [{Describe(expected)}], found [{Describe(found)}]");
            await Task.Delay(500);
            found = await system.ParkedMessagesAsync();
        }

        // What the test parked is what the operator is shown: the invariants name each such queue until it is discarded.
        var parkedOnPurpose = found.Where(q => q.Key.EndsWith("_error", StringComparison.Ordinal)).Select(q => q.Key).ToList();
        if (found.Count > 0)
        {
            var shown = await Invariants.FreshVerdictAsync(system, after: DateTimeOffset.UtcNow + 2 * EventShopSystem.InvariantsClockTolerance);
            var detail = string.Join("; ", shown.Checks.Where(x => !x.Ok && x.Name.EndsWith(".error-queues-nothing-parked", StringComparison.Ordinal))
                .Select(x => x.Detail));
            Assert.All(parkedOnPurpose, queue => Assert.Contains(queue, detail, StringComparison.Ordinal));
            var lab = new FaultLab(system);
            foreach (var queue in found.Keys)
                await lab.PurgeAsync(queue);
        }

        // The gateway compares across services only the orders settled 2 x ClockTolerance before its run started (ADR 0013):
        // the verdict must come from a run that started that long after the last order settled, or it could leave it out.
        var verdict = await Invariants.FreshVerdictAsync(system, after: DateTimeOffset.UtcNow + 2 * EventShopSystem.InvariantsClockTolerance);
        Assert.True(verdict.Ok, $"GET /api/invariants at {verdict.CheckedAt:O}: " +
            string.Join("; ", verdict.Checks.Where(x => !x.Ok).Select(x => $"{x.Name}: {x.Detail}")));
    }

    static string Describe<T>(IReadOnlyDictionary<string, T> queues) =>
        string.Join(", ", queues.OrderBy(q => q.Key, StringComparer.Ordinal).Select(q => $"{q.Key} {q.Value?.ToString() ?? "any"}"));

    static async Task EventuallyAsync(Func<Task<bool>> condition, Stopwatch waited, string because, Func<Task<string>>? explain = null)
    {
        while (!await condition())
        {
            if (waited.Elapsed >= SettleTimeout)
                Assert.Fail($"{because} after {waited.Elapsed.TotalSeconds:F0} s" + (explain is null ? "" : $"\n{await explain()}"));
            await Task.Delay(250);
        }
    }
}
