using System.Diagnostics.Metrics;
using EventShop.Sagas.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Sagas.OrderPlacement;

/// <summary>
/// Sagas per state, stuck sagas and the oldest one's age as gauges an alert can use. Counted every few seconds in the
/// background (a gauge's callback must not query a database), read by the exporters from the last count.
/// </summary>
public sealed class SagaGauges(IServiceScopeFactory scopeFactory, ILogger<SagaGauges> logger) : BackgroundService
{
    static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    volatile Snapshot _last = new([], 0, 0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        SagaMetrics.Meter.CreateObservableGauge("eventshop.saga.instances", () => _last.PerState
            .Select(x => new Measurement<long>(x.Value, new KeyValuePair<string, object?>("eventshop.saga.state", x.Key))),
            "{saga}", "Sagas per state");
        SagaMetrics.Meter.CreateObservableGauge("eventshop.saga.stuck", () => _last.Stuck, "{saga}",
            "Sagas over their state's budget (GET /api/sagas?stuck=true)");
        SagaMetrics.Meter.CreateObservableGauge("eventshop.saga.stuck.oldest_age", () => _last.OldestStuckSeconds, "s",
            "Time in state of the stuck saga that has waited longest");

        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await using var scope = scopeFactory.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<SagasDbContext>();
                var perState = await db.OrderStates.AsNoTracking().GroupBy(x => x.CurrentState)
                    .Select(g => new { State = g.Key, Count = g.LongCount() })
                    .ToDictionaryAsync(x => x.State, x => x.Count, stoppingToken);
                var stuck = await scope.ServiceProvider.GetRequiredService<StuckSagas>().FindAsync(null, 10_000, stoppingToken);
                _last = new Snapshot(perState, stuck.Count, stuck.Count == 0 ? 0 : stuck.Max(x => x.InState.TotalSeconds));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Counting sagas for the gauges failed; the last counts stay");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    sealed record Snapshot(Dictionary<string, long> PerState, long Stuck, double OldestStuckSeconds);
}
