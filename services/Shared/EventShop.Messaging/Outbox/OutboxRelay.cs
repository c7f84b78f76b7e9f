using System.Diagnostics;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventShop.Messaging.Outbox;

/// <summary>
/// Delivers committed outbox rows to the broker and deletes them once the broker confirmed them.
/// Rows are claimed with FOR UPDATE SKIP LOCKED: several relays (replicas of a service) share the work without
/// sending a row twice at the same time, and because no cursor is kept, a row that commits late is never skipped.
/// A crash after the confirm but before the delete sends the row again with the same MessageId; consumers' inboxes absorb that.
/// </summary>
public sealed class OutboxRelay<TDbContext>(
    IServiceScopeFactory scopeFactory,
    IBusControl bus,
    OutboxSignal signal,
    IOptions<OutboxRelayOptions> options,
    ILogger<OutboxRelay<TDbContext>> logger) : BackgroundService
    where TDbContext : DbContext
{
    public static readonly ActivitySource ActivitySource = new("EventShop.Messaging");

    readonly OutboxRelayOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var consecutiveFailures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // While the broker is away there is no point claiming rows; resume as soon as MassTransit has reconnected.
                await bus.WaitForHealthStatus(BusHealthStatus.Healthy, stoppingToken);
                var (claimed, failed) = await DeliverBatchAsync(stoppingToken);
                if (failed > 0)
                    throw new OutboxDeliveryException($"{failed} of {claimed} outbox messages could not be delivered");

                consecutiveFailures = 0;
                if (claimed < _options.BatchSize)
                    await signal.WaitAsync(_options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                consecutiveFailures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(2_000, 50 * Math.Pow(2, Math.Min(consecutiveFailures, 6))));
                logger.LogWarning(exception, "Outbox relay for {DbContext} failed ({Failures} in a row); next attempt in {Delay}",
                    typeof(TDbContext).Name, consecutiveFailures, delay);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Claims one batch, publishes it, deletes what the broker confirmed. Returns how many rows were claimed and how many failed.</summary>
    public async Task<(int Claimed, int Failed)> DeliverBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        await using var transaction = await dbContext.Database.BeginTransactionAsync(cancellationToken);

        var rows = await dbContext.Set<OutboxMessage>()
            .FromSql($"""
                SELECT * FROM messaging.outbox_messages
                WHERE "Attempts" < {_options.MaxAttempts}
                ORDER BY "Id"
                LIMIT {_options.BatchSize}
                FOR UPDATE SKIP LOCKED
                """)
            .AsNoTracking()
            .ToListAsync(cancellationToken);
        if (rows.Count == 0)
            return (0, 0);

        var delivered = await Task.WhenAll(rows.Select(row => TryDeliverAsync(row, cancellationToken)));

        var sentIds = rows.Where((_, i) => delivered[i]).Select(row => row.Id).ToArray();
        var failedIds = rows.Where((_, i) => !delivered[i]).Select(row => row.Id).ToArray();

        await dbContext.Set<OutboxMessage>().Where(x => sentIds.Contains(x.Id)).ExecuteDeleteAsync(cancellationToken);
        if (failedIds.Length > 0)
        {
            await dbContext.Set<OutboxMessage>().Where(x => failedIds.Contains(x.Id))
                .ExecuteUpdateAsync(set => set.SetProperty(x => x.Attempts, x => x.Attempts + 1), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (rows.Count, failedIds.Length);
    }

    async Task<bool> TryDeliverAsync(OutboxMessage row, CancellationToken cancellationToken)
    {
        ActivityContext.TryParse(row.TraceParent, null, out var parent);
        using var activity = ActivitySource.StartActivity("outbox deliver", ActivityKind.Internal, parent);
        activity?.SetTag("messaging.message.id", row.MessageId);
        try
        {
            var (message, messageType) = OutboxSerializer.Read(row);
            var pipe = Pipe.Execute<SendContext>(context =>
            {
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

            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            logger.LogWarning(exception, "Outbox message {MessageId} ({MessageType}) not delivered, attempt {Attempt}",
                row.MessageId, row.MessageType, row.Attempts + 1);
            return false;
        }
    }
}

public sealed class OutboxDeliveryException(string message) : Exception(message);
