namespace EventShop.LoadTests;

public sealed record SagaTransitionView(DateTimeOffset At, string Event);

public sealed record SagaView(Guid OrderId, string State, SagaTransitionView[]? History);

public sealed record StepTime(string Step, string Path, LatencySummary Ms);

public sealed record PhaseStepTimes(string Phase, int Orders, IReadOnlyList<StepTime> Steps);

/// <summary>
/// Where a completed order's time goes, step by step, read after the load from the order's own timestamps and its saga's
/// transition history. Each timestamp is taken by the service that did the work, on one clock (everything runs on this
/// machine), so a step's time is its messages' trips through the outbox, the broker and the next service.
/// </summary>
public static class StepTimes
{
    const int SampleSize = 200;

    /// <summary>From one timestamp to the next: the Orders service's, or the saga transition that an event made.</summary>
    static readonly (string Step, string Path, string? FromEvent, string? ToEvent)[] Steps =
    [
        ("submit", "Orders commits the order, the saga takes it", null, "OrderSubmitted"),
        ("debit", "saga -> Accounts debits the customer -> saga", "OrderSubmitted", "CustomerDebited"),
        ("credit", "saga -> Accounts credits the merchant -> saga", "CustomerDebited", "MerchantCredited"),
        ("points", "saga -> Points accrues -> saga", "MerchantCredited", "PointsAccrued"),
        ("outcome", "saga -> Orders records the outcome", "PointsAccrued", null),
    ];

    public static async Task<PhaseStepTimes> MeasureAsync(ShopApi api, string operatorId, string phase, IReadOnlyList<OrderSample> samples)
    {
        var completed = samples.Where(s => s.Terminal is { Status: "Completed" }).ToList();
        // Spread over the whole phase, not its first orders only.
        var stride = Math.Max(1, completed.Count / SampleSize);
        var chosen = completed.Where((_, i) => i % stride == 0).Take(SampleSize).ToList();

        var sagas = new SagaView?[chosen.Count];
        await Parallel.ForAsync(0, chosen.Count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancellationToken) =>
            sagas[i] = await api.SagaAsync(operatorId, chosen[i].Terminal!.OrderId, cancellationToken));

        var durations = Steps.Select(_ => new List<double>()).ToArray();
        var orders = 0;
        for (var i = 0; i < chosen.Count; i++)
        {
            var order = chosen[i].Terminal!;
            var history = sagas[i]?.History;
            if (history is null)
                continue;
            var at = history.GroupBy(t => t.Event).ToDictionary(g => g.Key, g => g.First().At);
            DateTimeOffset? Stamp(string? eventName) =>
                eventName is null ? null : at.TryGetValue(eventName, out var value) ? value : null;

            var stamps = Steps.Select(step => (From: step.FromEvent is null ? order.CreatedAt : Stamp(step.FromEvent),
                To: step.ToEvent is null ? order.UpdatedAt : Stamp(step.ToEvent))).ToArray();
            if (stamps.Any(s => s.From is null || s.To is null))
                continue; // not the plain happy path (a retried or timed-out step): it has no single time per step
            orders++;
            for (var step = 0; step < Steps.Length; step++)
                durations[step].Add((stamps[step].To!.Value - stamps[step].From!.Value).TotalMilliseconds);
        }

        return new PhaseStepTimes(phase, orders,
            Steps.Select((step, i) => new StepTime(step.Step, step.Path, LatencySummary.Of(durations[i]))).ToList());
    }
}
