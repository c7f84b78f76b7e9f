using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace EventShop.Messaging.Hosting.Redelivery;

/// <summary>
/// Delivers again, with a budget, the messages this service's consumers failed for a transient cause (ADR 0008 point 9).
/// A database outage longer than the in-process retries leaves every message in flight in an error queue; their orders heal
/// through the deadlines and the reconciler, but the messages would wait there for a person who has nothing to decide.
/// <para>
/// Each service looks only at its own queues' <c>_error</c> queues, as its own broker user (ADR 0020): a passive declare
/// per queue each <see cref="ErrorQueueRedeliveryOptions.Interval"/>, and a walk only when a queue got deeper or a wait ran out.
/// A walk takes each message unacknowledged (basic.get), publishes the ones <see cref="RedeliveryPlan"/> says are due to the
/// queue's exchange (mandatory, confirmed) before acknowledging them, and puts the rest back at the end of the error queue
/// as copies (<see cref="KeepAsync"/>). Nothing is walked while the service's
/// database is unreachable: the cause is still there and the budget is not spent. A crash between publish and ack leaves a
/// copy in both queues; the receiver's inbox makes its effect happen once. Replicas walk concurrently without harm: the
/// broker hands each message to one of them.
/// </para>
/// </summary>
public sealed partial class ErrorQueueRedeliverer : BackgroundService
{
    const int MaxPerWalk = 1000;

    readonly ReceiveQueues _queues;
    readonly ErrorQueueCensus _census;
    readonly ErrorQueueRedeliveryOptions _options;
    readonly RabbitMqSettings _broker;
    readonly IServiceProvider _services;
    readonly TimeProvider _time;
    readonly ILogger<ErrorQueueRedeliverer> _logger;
    readonly Dictionary<string, QueueWatch> _watches = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, long> _depths = new(StringComparer.Ordinal);
    IConnection? _connection;
    IChannel? _depthChannel;

    public ErrorQueueRedeliverer(ReceiveQueues queues, ErrorQueueCensus census, IOptions<ErrorQueueRedeliveryOptions> options, RabbitMqSettings broker, IServiceProvider services,
        TimeProvider time, ILogger<ErrorQueueRedeliverer> logger)
    {
        (_queues, _census, _options, _broker, _services, _time, _logger) = (queues, census, options.Value, broker, services, time, logger);
        MessagingMetrics.Meter.CreateObservableGauge("eventshop.error_queue.messages",
            () => _depths.Select(d => new Measurement<long>(d.Value, new KeyValuePair<string, object?>("queue", d.Key))),
            "{message}", "Messages waiting in each of this service's error queues, as last seen");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
            return;
        using var timer = new PeriodicTimer(_options.Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await PassAsync(stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // The broker away or the connection broken: the bus's reconnects and the watchdog deal with the broker;
                    // this pass is tried again on the next tick, on a new connection.
                    LogPassFailed(exception);
                    await DropConnectionAsync();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await DropConnectionAsync();
        }
    }

    async Task PassAsync(CancellationToken cancellationToken)
    {
        var queues = _queues.Names;
        if (queues.Count == 0)
            return;
        var connection = await ConnectionAsync(cancellationToken);
        bool? databaseReachable = null;
        foreach (var queue in queues)
        {
            var errorQueue = queue + "_error";
            var depth = await DepthAsync(connection, errorQueue, cancellationToken);
            _depths[errorQueue] = depth;
            if (!NeedsWalk(errorQueue, depth))
                continue;

            databaseReachable ??= await DatabaseReachableAsync(cancellationToken);
            if (databaseReachable == false)
                return;
            var walked = await WalkAsync(connection, queue, errorQueue, _watches.GetValueOrDefault(errorQueue), depth, cancellationToken);
            _watches[errorQueue] = walked;
            _census.Record(errorQueue, walked.Reported.Count);
        }
    }

    /// <summary>
    /// Whether <paramref name="errorQueue"/> must be walked: it has messages nobody looked at yet (deeper than after the last
    /// walk), or a redelivery is due. A queue that only got shallower is not walked: the operator console's walk (and a
    /// test's look) takes messages for a moment and hands them back, and walking then would hide them from it in turn. A
    /// lower depth is believed when two passes in a row see it, which a look of less than an interval never shows.
    /// </summary>
    bool NeedsWalk(string errorQueue, uint depth)
    {
        var watch = _watches.GetValueOrDefault(errorQueue);
        var walkDue = watch is null || _time.GetTimestamp() >= watch.WalkAgainAt || depth > watch.Depth;
        if (watch is not null && !walkDue)
        {
            if (depth == watch.Depth)
                watch.LowerDepthSeen = null;
            else if (watch.LowerDepthSeen == depth)
                (watch.Depth, watch.LowerDepthSeen) = (depth, null);
            else
                watch.LowerDepthSeen = depth;
        }
        if (depth == 0 && (walkDue || watch!.Depth == 0))
        {
            _watches.Remove(errorQueue);
            _census.Record(errorQueue, 0);
            return false;
        }
        if (!walkDue)
            _census.Record(errorQueue, Math.Min(watch!.Reported.Count, (int)depth));
        return walkDue;
    }

    async Task<QueueWatch> WalkAsync(IConnection connection, string queue, string errorQueue, QueueWatch? previous, uint depth, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        var next = new QueueWatch();
        var soonest = TimeSpan.MaxValue;
        var redelivered = 0;
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        // The messages that were there when the pass looked, once each: a kept message goes back to the end of the queue.
        for (var i = 0; i < Math.Min(depth, MaxPerWalk); i++)
        {
            var delivery = await channel.BasicGetAsync(errorQueue, autoAck: false, cancellationToken);
            if (delivery is null)
                break;
            var key = delivery.BasicProperties.MessageId ?? Convert.ToHexString(SHA256.HashData(delivery.Body.Span));
            var seenAgain = next.FirstSeen.ContainsKey(key);
            var seenAt = previous?.FirstSeen.GetValueOrDefault(key) is > 0 and var earlier ? earlier : now;
            var headers = delivery.BasicProperties.Headers;
            var (verdict, wait) = RedeliveryPlan.Decide(headers, _time.GetElapsedTime(seenAt, now), _options);

            if (!seenAgain && verdict == RedeliveryVerdict.DeliverAgain
                && await TryPublishAsync(channel, queue, delivery, RedeliveryPlan.HeadersForRedelivery(headers), cancellationToken))
            {
                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
                MessagingMetrics.Redelivered.Add(1, new KeyValuePair<string, object?>("queue", queue));
                redelivered++;
                continue;
            }

            await KeepAsync(channel, errorQueue, delivery, cancellationToken);
            next.Depth++;
            next.FirstSeen[key] = seenAt;
            if (verdict == RedeliveryVerdict.ForAnOperator)
            {
                next.Reported.Add(key);
                if (previous?.Reported.Contains(key) != true && !seenAgain)
                    LogLeftForOperator(errorQueue, key, RedeliveryPlan.Redeliveries(headers));
            }
            else
            {
                soonest = verdict == RedeliveryVerdict.Wait && wait < soonest ? wait : soonest;
            }
            if (seenAgain)
                break; // someone else holds the rest of the originals for now (the console's walk): they come back by themselves
        }

        if (redelivered > 0)
            LogRedelivered(redelivered, errorQueue, queue);
        next.WalkAgainAt = soonest == TimeSpan.MaxValue ? long.MaxValue : now + (long)(soonest.TotalSeconds * _time.TimestampFrequency);
        return next;
    }

    /// <summary>
    /// Puts a message back at the end of its error queue as a new message, then acknowledges the one taken. Not a nack with
    /// requeue: the error queue is a quorum queue with the endpoint's delivery limit (MassTransit declares it with the
    /// endpoint's arguments), every requeue counts as a delivery, and at the limit the broker dead-letters the message to its
    /// own queue, which it then drops as a dead-letter cycle ("Dead-letter queues cycle detected", seen in issue 22). A copy
    /// starts at no delivery. If the copy cannot be published, the message is handed back (counted) rather than lost.
    /// </summary>
    async Task KeepAsync(IChannel channel, string errorQueue, BasicGetResult delivery, CancellationToken cancellationToken)
    {
        var headers = (delivery.BasicProperties.Headers ?? new Dictionary<string, object?>())
            .Where(h => h.Key != "x-delivery-count").ToDictionary(h => h.Key, h => h.Value, StringComparer.Ordinal);
        if (await TryPublishAsync(channel, errorQueue, delivery, headers, cancellationToken))
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
        else
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, cancellationToken);
    }

    /// <summary>Publishes a copy of <paramref name="delivery"/> to <paramref name="exchange"/>, mandatory and confirmed.</summary>
    async Task<bool> TryPublishAsync(IChannel channel, string exchange, BasicGetResult delivery, Dictionary<string, object?> headers,
        CancellationToken cancellationToken)
    {
        var properties = new BasicProperties(delivery.BasicProperties) { Headers = headers };
        try
        {
            // Each endpoint's queue and error queue has an exchange of its name (MassTransit binds them); the service may
            // publish there, not to the default exchange (infra/broker-permissions).
            await channel.BasicPublishAsync(exchange, "", mandatory: true, properties, delivery.Body, cancellationToken);
            return true;
        }
        catch (PublishException exception)
        {
            // Returned (no queue bound) or refused by the broker: the message stays where it is, tried again later.
            LogPublishRefused(exception, exchange);
            return false;
        }
    }

    /// <summary>
    /// The queue's depth from a passive declare, on one channel kept from pass to pass: opening and closing a channel for
    /// each declare was most of this idle loop's cost (about 0.15 s of CPU a minute per service, 2026-12-03). A queue that
    /// does not exist (yet) closes the channel; the next declare opens a new one.
    /// </summary>
    async Task<uint> DepthAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        if (_depthChannel is not { IsOpen: true })
        {
            await DropDepthChannelAsync();
            _depthChannel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        }
        try
        {
            return (await _depthChannel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
        }
        catch (OperationInterruptedException)
        {
            await DropDepthChannelAsync();
            return 0;
        }
    }

    async Task DropDepthChannelAsync()
    {
        await DisposeQuietlyAsync(_depthChannel);
        _depthChannel = null;
    }

    /// <summary>Closes a channel or connection that may be broken already: the broker's side is gone either way.</summary>
    static async Task DisposeQuietlyAsync(IAsyncDisposable? resource)
    {
        if (resource is null)
            return;
        try
        {
            await resource.DisposeAsync();
        }
        catch (Exception exception) when (exception is AlreadyClosedException or OperationInterruptedException or IOException)
        {
        }
    }

    async Task<bool> DatabaseReachableAsync(CancellationToken cancellationToken)
    {
        if (_services.GetService<HealthCheckService>() is not { } health)
            return true;
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(DatabaseExtensions.DatabaseHealthTag), cancellationToken);
        return report.Status == HealthStatus.Healthy;
    }

    async Task<IConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsOpen: true } open)
            return open;
        await DropConnectionAsync();
        var factory = new ConnectionFactory
        {
            HostName = _broker.Host, Port = _broker.Port, VirtualHost = _broker.VirtualHost, UserName = _broker.Username, Password = _broker.Password,
            ClientProvidedName = $"{AppDomain.CurrentDomain.FriendlyName}-redelivery", AutomaticRecoveryEnabled = false,
        };
        return _connection = await factory.CreateConnectionAsync(cancellationToken);
    }

    async Task DropConnectionAsync()
    {
        await DropDepthChannelAsync();
        await DisposeQuietlyAsync(_connection);
        _connection = null;
    }

    /// <summary>What the last walk of one error queue left there.</summary>
    sealed class QueueWatch
    {
        public uint Depth { get; set; }
        public long WalkAgainAt { get; set; } = long.MaxValue;
        public uint? LowerDepthSeen { get; set; }
        public Dictionary<string, long> FirstSeen { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Reported { get; } = new(StringComparer.Ordinal);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivered {Count} message(s) from {ErrorQueue} again to {Queue}: they had failed for a transient cause")]
    partial void LogRedelivered(int count, string errorQueue, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} in {ErrorQueue} waits for an operator (GET /api/failures): it failed for a cause that does not pass by itself, or after {Redeliveries} automatic redeliveries")]
    partial void LogLeftForOperator(string errorQueue, string messageId, int redeliveries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The broker did not route a message to {Exchange}; it stays in its error queue")]
    partial void LogPublishRefused(Exception exception, string exchange);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Looking at the error queues failed; trying again on the next tick")]
    partial void LogPassFailed(Exception exception);
}
