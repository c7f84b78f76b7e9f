using EventShop.Messaging.Hosting;
using EventShop.Messaging;
using EventShop.Orders.Domain;
using EventShop.Orders.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EventShop.Orders.StatusNotifications;

/// <summary>
/// Hears every order status change committed in the Orders database, by this replica or any other (PostgreSQL
/// LISTEN/NOTIFY, fed by a trigger on the orders table), and wakes the requests waiting on that order here. Without it a
/// long-poll on one replica would find a change another replica committed only at its next periodic re-read.
/// The re-read stays as the safety net for the moments this listener is not connected.
/// </summary>
public sealed class OrderStatusListener(
    IServiceScopeFactory scopeFactory,
    OrderStatusNotifier notifier,
    ILogger<OrderStatusListener> logger) : BackgroundService
{
    public const string Channel = "order_status_changed";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var (connectionString, ownWriter) = ListenerConnection();
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, e) => Heard(e.Payload, ownWriter);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);

                // A change committed while this was not listening was never heard: every waiter reads its order again.
                notifier.ChangedElsewhereForAll();
                if (failures > 0)
                    logger.LogInformation("Listening to order status changes again after {Failures} failed attempts", failures);
                failures = 0;

                while (!stoppingToken.IsCancellationRequested)
                    await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                failures++;
                var delay = RetryBackoff.After(failures, first: TimeSpan.FromMilliseconds(200), max: TimeSpan.FromSeconds(5));
                logger.LogWarning(exception, "Not listening to order status changes ({Failures} failures in a row); waiting requests fall back to re-reading; next attempt in {Delay}",
                    failures, delay);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// "orderId writer". A change this process wrote is skipped: its consumer hands the committed order to the waiters
    /// itself, and a wake-up from here, often a moment sooner, would make them read the order back for nothing.
    /// </summary>
    void Heard(string payload, string ownWriter)
    {
        var separator = payload.IndexOf(' ');
        var orderIdText = separator < 0 ? payload : payload[..separator];
        var writer = separator < 0 ? "" : payload[(separator + 1)..];
        if (writer != ownWriter && Guid.TryParse(orderIdText, out var orderId))
            notifier.ChangedElsewhere(orderId);
    }

    /// <summary>
    /// The service's own connection string, unpooled: a pooled connection would go back to the pool still listening
    /// (the services' pools skip the session reset). Keepalives make a wait on a silently dead connection fail, and
    /// reconnect. Its application name is the one this process's writes carry (set per process in AddServiceDatabase).
    /// </summary>
    (string ConnectionString, string OwnWriter) ListenerConnection()
    {
        using var scope = scopeFactory.CreateScope();
        var configured = new NpgsqlConnectionStringBuilder(scope.ServiceProvider.GetRequiredService<OrdersDbContext>().Database.GetConnectionString())
        {
            Pooling = false,
            KeepAlive = 10,
        };
        return (configured.ConnectionString, configured.ApplicationName ?? "");
    }
}
