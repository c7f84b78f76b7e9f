using System.Diagnostics;
using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventShop.Messaging.Outbox;

/// <summary>
/// Delivers committed outbox rows to the broker and deletes them once the broker confirmed them. Two paths:
/// rows this process committed are handed over in memory (<see cref="OutboxSignal"/>) and published at once; a poll every
/// <see cref="OutboxRelayOptions.PollInterval"/> claims the rest with FOR UPDATE SKIP LOCKED, so several relays (replicas
/// of a service) share the work, and because no cursor is kept, a row that commits late is never skipped.
/// A crash after the confirm but before the delete sends the row again with the same MessageId; consumers' inboxes absorb that.
/// Every publish is mandatory: a message the broker cannot route to any queue (a binding or queue deleted, a consumer never
/// started) is returned, not confirmed, and its row stays. Rows that keep failing are parked, counted and retried rarely
/// (<see cref="OutboxRelayOptions.MaxAttempts"/>, ADR 0008).
/// </summary>
public sealed class OutboxRelay<TDbContext>(
    IServiceScopeFactory scopeFactory,
    IBusControl bus,
    OutboxSignal signal,
    PublishStall stall,
    IOptions<OutboxRelayOptions> options,
    ILogger<OutboxRelay<TDbContext>> logger) : BackgroundService
    where TDbContext : DbContext
{
    public static readonly ActivitySource ActivitySource = new("EventShop.Messaging");

    readonly OutboxRelayOptions _options = options.Value;
    long _parked;
    ObservableGauge<long>? _parkedGauge;

    // Published from memory and confirmed by the broker, not deleted yet: deleted together, one statement per window
    // instead of one per wake-up. They stay "in flight" (the poll leaves them alone) until the delete has committed.
    readonly List<long> _confirmed = [];
    long _firstConfirmedAt;

    /// <summary>Rows parked when last counted (at start, after a failed poll, at each retry of the parked rows).</summary>
    public long Parked => Interlocked.Read(ref _parked);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _parkedGauge = MessagingMetrics.Meter.CreateObservableGauge("eventshop.outbox.parked",
            () => new Measurement<long>(Parked, new KeyValuePair<string, object?>("eventshop.outbox.db_context", typeof(TDbContext).Name)),
            unit: "{message}", description: "Outbox rows the relay gave up on for now: retried every ParkedRetryInterval, listed for operators");
        var consecutiveFailures = 0;
        var lastPoll = long.MinValue;
        var lastParkedRetry = long.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // While the broker is away there is no point publishing (nor counting attempts); resume once it is back.
                await WaitForBrokerAsync(stoppingToken);

                if (lastParkedRetry == long.MinValue || Stopwatch.GetElapsedTime(lastParkedRetry) >= _options.ParkedRetryInterval)
                {
                    lastParkedRetry = Stopwatch.GetTimestamp();
                    await RetryParkedAsync(stoppingToken);
                }

                var failed = await DeliverCommittedAsync(stoppingToken);
                await DeleteConfirmedAsync(force: false, stoppingToken);
                var claimed = 0;
                if (lastPoll == long.MinValue || Stopwatch.GetElapsedTime(lastPoll) >= _options.PollInterval)
                {
                    lastPoll = Stopwatch.GetTimestamp();
                    (claimed, var pollFailed) = await DeliverBatchAsync(stoppingToken);
                    failed += pollFailed;
                    if (claimed == _options.BatchSize)
                        lastPoll = long.MinValue; // a backlog: poll again at once
                }

                if (failed > 0)
                    throw new OutboxDeliveryException($"{failed} outbox messages could not be delivered; they stay in the table for the next poll");

                consecutiveFailures = 0;
                if (!signal.HasCommitted && lastPoll != long.MinValue)
                    await signal.WaitAsync(NextWake(lastPoll), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                consecutiveFailures++;
                var delay = RetryBackoff.After(consecutiveFailures, first: TimeSpan.FromMilliseconds(100), max: TimeSpan.FromSeconds(2));
                logger.LogWarning(exception, "Outbox relay for {DbContext} failed ({Failures} in a row); next attempt in {Delay}",
                    typeof(TDbContext).Name, consecutiveFailures, delay);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        try
        {
            await DeleteConfirmedAsync(force: true, CancellationToken.None);
        }
        catch (Exception exception)
        {
            // Those rows are sent again after a restart, with the same MessageIds; the receivers' inboxes absorb them.
            logger.LogWarning(exception, "Outbox relay for {DbContext} could not delete {Count} delivered rows on stop", typeof(TDbContext).Name, _confirmed.Count);
        }
    }

    /// <summary>
    /// Waits until the broker is reachable: some receive endpoint (the bus's own one at least) is connected. Not "the bus is
    /// healthy": one endpoint faulted for good (its queue declared with other arguments, say) keeps the bus degraded, and
    /// waiting for healthy then stopped every publish of the whole service.
    /// </summary>
    async Task WaitForBrokerAsync(CancellationToken cancellationToken)
    {
        while (!BrokerReachable(bus.CheckHealth()))
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
    }

    static bool BrokerReachable(BusHealthResult health) =>
        health.Status == BusHealthStatus.Healthy || health.Endpoints.Values.Any(endpoint => endpoint.Status == BusHealthStatus.Healthy);

    /// <summary>How long to sleep when nothing is handed over: until the next poll, or sooner if confirmed rows wait for their delete.</summary>
    TimeSpan NextWake(long lastPoll)
    {
        var untilPoll = _options.PollInterval - Stopwatch.GetElapsedTime(lastPoll);
        if (_confirmed.Count > 0)
        {
            var untilDelete = _options.DeleteWindow - Stopwatch.GetElapsedTime(_firstConfirmedAt);
            untilPoll = untilDelete < untilPoll ? untilDelete : untilPoll;
        }

        return untilPoll > TimeSpan.Zero ? untilPoll : TimeSpan.Zero;
    }

    /// <summary>
    /// The fast path: publishes the rows this process has just committed (handed over in memory); the confirmed ones are
    /// deleted by <see cref="DeleteConfirmedAsync"/>. A row that fails stays in the table and is left to the poll.
    /// Returns how many failed.
    /// </summary>
    public async Task<int> DeliverCommittedAsync(CancellationToken cancellationToken)
    {
        var rows = signal.TakeCommitted(_options.BatchSize);
        if (rows.Count == 0)
            return 0;

        long[] sentIds, failedIds;
        try
        {
            (sentIds, failedIds) = await PublishAsync(rows, cancellationToken);
        }
        catch
        {
            signal.Released(rows.Select(row => row.Id));
            throw;
        }

        signal.Published(sentIds);
        signal.Released(failedIds);
        if (_confirmed.Count == 0)
            _firstConfirmedAt = Stopwatch.GetTimestamp();
        _confirmed.AddRange(sentIds);
        return failedIds.Length;
    }

    /// <summary>
    /// Deletes the rows published from memory once a batch is full or the oldest has waited <see cref="OutboxRelayOptions.DeleteWindow"/>
    /// (or at once with <paramref name="force"/>). Until then a crash would send them again with the same MessageIds.
    /// </summary>
    public async Task DeleteConfirmedAsync(bool force, CancellationToken cancellationToken)
    {
        if (_confirmed.Count == 0)
            return;
        if (!force && _confirmed.Count < _options.BatchSize && Stopwatch.GetElapsedTime(_firstConfirmedAt) < _options.DeleteWindow)
            return;

        var ids = _confirmed.ToArray();
        await using (var scope = scopeFactory.CreateAsyncScope())
        {
            var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
            await dbContext.Set<OutboxMessage>().Where(x => ids.Contains(x.Id)).ExecuteDeleteAsync(cancellationToken);
        }

        _confirmed.Clear();
        signal.Released(ids);
    }

    /// <summary>
    /// The poll: claims one batch of rows this process is not already publishing and that are older than
    /// <see cref="OutboxRelayOptions.PollGrace"/> (rows of other processes, of a crashed process, or that failed),
    /// publishes it, deletes what the broker confirmed. Returns how many rows were claimed and failed.
    /// </summary>
    public Task<(int Claimed, int Failed)> DeliverBatchAsync(CancellationToken cancellationToken)
    {
        var inFlight = signal.InFlight();
        // now(), not this process's clock: CreatedAt was stamped by whichever process committed the row (ADR 0008).
        return DeliverClaimedAsync(dbContext => dbContext.Set<OutboxMessage>().FromSql($"""
            SELECT * FROM messaging.outbox_messages
            WHERE "Attempts" < {_options.MaxAttempts} AND NOT ("Id" = ANY({inFlight})) AND "CreatedAt" < now() - {_options.PollGrace}
            ORDER BY "Id"
            LIMIT {_options.BatchSize}
            FOR UPDATE SKIP LOCKED
            """), cancellationToken);
    }

    /// <summary>
    /// Tries every parked row once more (a batch at a time) and counts what is still parked. Called every
    /// <see cref="OutboxRelayOptions.ParkedRetryInterval"/>; returns how many were delivered.
    /// </summary>
    public async Task<int> RetryParkedAsync(CancellationToken cancellationToken)
    {
        var delivered = 0;
        long afterId = 0;
        while (true)
        {
            var batchAfter = afterId;
            var (claimed, failed, lastId) = await DeliverClaimedWithLastIdAsync(dbContext => dbContext.Set<OutboxMessage>().FromSql($"""
                SELECT * FROM messaging.outbox_messages
                WHERE "Attempts" >= {_options.MaxAttempts} AND "Id" > {batchAfter}
                ORDER BY "Id"
                LIMIT {_options.BatchSize}
                FOR UPDATE SKIP LOCKED
                """), cancellationToken);
            delivered += claimed - failed;
            if (claimed < _options.BatchSize)
                break;
            afterId = lastId;
        }

        await CountParkedAsync(cancellationToken);
        return delivered;
    }

    /// <summary>The rows the relay has given up on for now, oldest first: for an operator (or a console) to look at.</summary>
    public async Task<IReadOnlyList<OutboxMessage>> ParkedAsync(int limit, CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        return await dbContext.Set<OutboxMessage>().AsNoTracking()
            .Where(x => x.Attempts >= _options.MaxAttempts).OrderBy(x => x.Id).Take(limit)
            .ToListAsync(cancellationToken);
    }

    async Task CountParkedAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        var parked = await dbContext.Set<OutboxMessage>().LongCountAsync(x => x.Attempts >= _options.MaxAttempts, cancellationToken);
        Interlocked.Exchange(ref _parked, parked);
    }

    async Task<(int Claimed, int Failed)> DeliverClaimedAsync(Func<TDbContext, IQueryable<OutboxMessage>> claim, CancellationToken cancellationToken)
    {
        var (claimed, failed, _) = await DeliverClaimedWithLastIdAsync(claim, cancellationToken);
        if (failed > 0)
            await CountParkedAsync(cancellationToken);
        return (claimed, failed);
    }

    /// <summary>Claims rows (FOR UPDATE SKIP LOCKED), publishes them, deletes those the broker routed and confirmed, and counts an attempt on the others.</summary>
    async Task<(int Claimed, int Failed, long LastId)> DeliverClaimedWithLastIdAsync(Func<TDbContext, IQueryable<OutboxMessage>> claim,
        CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        await using var transaction = await dbContext.Database.BeginTransactionAsync(cancellationToken);

        var rows = await claim(dbContext).AsNoTracking().ToListAsync(cancellationToken);
        if (rows.Count == 0)
            return (0, 0, 0);

        var (sentIds, failedIds) = await PublishAsync(rows, cancellationToken);
        signal.Published(sentIds);

        if (sentIds.Length > 0)
            await dbContext.Set<OutboxMessage>().Where(x => sentIds.Contains(x.Id)).ExecuteDeleteAsync(cancellationToken);
        if (failedIds.Length > 0)
        {
            await dbContext.Set<OutboxMessage>().Where(x => failedIds.Contains(x.Id))
                .ExecuteUpdateAsync(set => set.SetProperty(x => x.Attempts, x => x.Attempts + 1), cancellationToken);
            foreach (var row in rows.Where(row => failedIds.Contains(row.Id) && row.Attempts + 1 == _options.MaxAttempts))
            {
                logger.LogError("Outbox message {MessageId} ({MessageType}) failed {Attempts} times and is parked; it is retried every {Interval}",
                    row.MessageId, row.MessageType, _options.MaxAttempts, _options.ParkedRetryInterval);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return (rows.Count, failedIds.Length, rows[^1].Id);
    }

    /// <summary>Publishes the rows concurrently, so the broker's confirms overlap; returns the ids it confirmed and the ids that failed.</summary>
    async Task<(long[] Sent, long[] Failed)> PublishAsync(IReadOnlyList<OutboxMessage> rows, CancellationToken cancellationToken)
    {
        var delivered = await Task.WhenAll(rows.Select(row => TryDeliverAsync(row, cancellationToken)));
        return ([.. rows.Where((_, i) => delivered[i]).Select(row => row.Id)],
            [.. rows.Where((_, i) => !delivered[i]).Select(row => row.Id)]);
    }

    async Task<bool> TryDeliverAsync(OutboxMessage row, CancellationToken cancellationToken)
    {
        ActivityContext.TryParse(row.TraceParent, null, out var parent);
        using var activity = ActivitySource.StartActivity("outbox deliver", ActivityKind.Internal, parent);
        activity?.SetTag("messaging.message.id", row.MessageId);
        using var publishTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        publishTimeout.CancelAfter(_options.PublishTimeout);
        try
        {
            // Bounded whether or not the transport honours the token: RabbitMQ.Client 7 can leave the confirm of a publish
            // that was in flight when the broker died pending for ever, and one such publish used to stop this relay, and
            // with it every reply of the service, for good (the broker kill -9 finding of issue 22, ADR 0008).
            await PublishRowAsync(row, publishTimeout.Token).WaitAsync(_options.PublishTimeout, cancellationToken);
            stall.Confirmed();
            return true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            if (exception is TimeoutException or OperationCanceledException)
            {
                stall.TimedOut();
                logger.LogWarning("Outbox message {MessageId} ({MessageType}) not confirmed within {Timeout}, attempt {Attempt}; its row stays and is sent again",
                    row.MessageId, row.MessageType, _options.PublishTimeout, row.Attempts + 1);
            }
            else
            {
                logger.LogWarning(exception, "Outbox message {MessageId} ({MessageType}) not delivered, attempt {Attempt}",
                    row.MessageId, row.MessageType, row.Attempts + 1);
            }
            return false;
        }
    }

    async Task PublishRowAsync(OutboxMessage row, CancellationToken cancellationToken)
    {
        var (message, messageType) = OutboxSerializer.Read(row);
        var pipe = Pipe.Execute<SendContext>(context =>
        {
            // Mandatory: a message no queue receives comes back as an exception instead of a confirm, and the row stays.
            if (context is RabbitMqSendContext rabbit)
                rabbit.Mandatory = true;
            else if (context.TryGetPayload(out RabbitMqSendContext? payload))
                payload!.Mandatory = true;
            context.MessageId = row.MessageId;
            context.CorrelationId = row.CorrelationId;
            context.ConversationId = row.ConversationId;
            context.InitiatorId = row.InitiatorId;
        });

        if (row.DestinationAddress is null)
            await bus.Publish(message, messageType, pipe, cancellationToken);
        else
        {
            var endpoint = await bus.GetSendEndpoint(new Uri(row.DestinationAddress));
            await endpoint.Send(message, messageType, pipe, cancellationToken);
        }
    }
}

public sealed class OutboxDeliveryException(string message) : Exception(message);
