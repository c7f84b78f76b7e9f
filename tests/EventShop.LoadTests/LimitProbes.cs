using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Threading.Channels;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace EventShop.LoadTests;

/// <param name="AloneMs">One operation at a time, nothing queued ahead of it: the least a step of an order can wait for this server.</param>
public sealed record ProbeResult(string Name, double PerSecond, long Count, double Seconds, string Setup, LatencySummary AloneMs);

/// <summary>
/// What the broker and the database can do on their own on this machine, measured against the very servers EventShop uses,
/// in a scratch vhost / database that is removed afterwards. They bound what the whole system can settle.
/// </summary>
public sealed class LimitProbes(BenchOptions options)
{
    const int PublisherChannels = 2;
    const int PublishWindow = 200;
    const int MessageBytes = 300;

    /// <summary>
    /// Persistent messages with publisher confirms into one quorum queue (the queue type every EventShop endpoint uses, ADR 0002),
    /// consumed with manual acks: the rate at which messages make the whole trip publish, confirm, deliver, ack.
    /// </summary>
    public async Task<ProbeResult> BrokerAsync()
    {
        var vhost = $"bench-probe-{Guid.NewGuid():N}"[..24];
        using var management = ManagementClient(options);
        (await management.PutAsync($"/api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        try
        {
            (await management.PutAsJsonAsync($"/api/permissions/{vhost}/{Uri.EscapeDataString(options.RabbitUser)}",
                new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
            return await MeasureBrokerAsync(vhost);
        }
        finally
        {
            await management.DeleteAsync($"/api/vhosts/{vhost}");
        }
    }

    async Task<ProbeResult> MeasureBrokerAsync(string vhost)
    {
        const string queue = "probe";
        var factory = new ConnectionFactory
        {
            HostName = options.RabbitHost,
            Port = options.RabbitPort,
            UserName = options.RabbitUser,
            Password = options.RabbitPassword,
            VirtualHost = vhost,
        };
        await using var publisherConnection = await factory.CreateConnectionAsync("bench-probe-publisher");
        await using var consumerConnection = await factory.CreateConnectionAsync("bench-probe-consumer");

        await using var consumerChannel = await consumerConnection.CreateChannelAsync();
        await consumerChannel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        await consumerChannel.BasicQosAsync(0, 500, false);

        long consumed = 0;
        var consumer = new AsyncEventingBasicConsumer(consumerChannel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            Interlocked.Increment(ref consumed);
            await consumerChannel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        };
        await consumerChannel.BasicConsumeAsync(queue, autoAck: false, consumer);

        var body = Encoding.UTF8.GetBytes(new string('x', MessageBytes));
        var properties = new BasicProperties { Persistent = true, ContentType = "application/json" };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1) + options.ProbeDuration);

        async Task Publish()
        {
            // Tracking on: each publish completes when the broker confirmed it; a window of them in flight keeps the pipe full.
            await using var channel = await publisherConnection.CreateChannelAsync(new CreateChannelOptions(
                publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                outstandingPublisherConfirmationsRateLimiter: new ThrottlingRateLimiter(PublishWindow * 2)));
            var window = new List<Task>(PublishWindow);
            while (!stop.IsCancellationRequested)
            {
                window.Clear();
                for (var i = 0; i < PublishWindow; i++)
                    window.Add(channel.BasicPublishAsync("", queue, mandatory: false, properties, body).AsTask());
                await Task.WhenAll(window);
            }
        }

        var publishers = Enumerable.Range(0, PublisherChannels).Select(_ => Task.Run(Publish)).ToArray();

        // The first second warms up connections and the queue; the rate is taken over the probe duration after it.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var startCount = Interlocked.Read(ref consumed);
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(publishers);
        var count = Interlocked.Read(ref consumed) - startCount;
        var seconds = watch.Elapsed.TotalSeconds;
        var alone = await MeasureBrokerHopAsync(publisherConnection, consumerConnection, body, properties);
        return new ProbeResult("broker", count / seconds, count, seconds,
            $"RabbitMQ.Client 7, {MessageBytes} B persistent, publisher confirms ({PublisherChannels} channels x {PublishWindow} in flight), one quorum queue, manual acks, prefetch 500; alone: one message at a time, publish to its delivery at the consumer",
            alone);
    }

    /// <summary>
    /// One message at a time through a quorum queue of its own: from the publish to its delivery at the consumer, which is
    /// what each step of an order waits for at least (a quorum queue delivers a message once its log has it on disk).
    /// </summary>
    async Task<LatencySummary> MeasureBrokerHopAsync(IConnection publisherConnection, IConnection consumerConnection,
        byte[] body, BasicProperties properties)
    {
        const string queue = "probe-alone";
        await using var consumerChannel = await consumerConnection.CreateChannelAsync();
        await consumerChannel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });

        var delivered = Channel.CreateUnbounded<long>();
        var consumer = new AsyncEventingBasicConsumer(consumerChannel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            delivered.Writer.TryWrite(Stopwatch.GetTimestamp());
            await consumerChannel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        };
        await consumerChannel.BasicConsumeAsync(queue, autoAck: false, consumer);

        await using var channel = await publisherConnection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var latencies = new List<double>();
        var until = Stopwatch.GetTimestamp() + (long)(options.ProbeDuration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            var publishedAt = Stopwatch.GetTimestamp();
            await channel.BasicPublishAsync("", queue, mandatory: false, properties, body);
            // A broker that never delivers fails the probe with this message instead of hanging the bench.
            using var deliveryTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            long deliveredAt;
            try
            {
                deliveredAt = await delivered.Reader.ReadAsync(deliveryTimeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The broker probe's message was confirmed but not delivered within 10 s (queue {queue})");
            }

            latencies.Add(Stopwatch.GetElapsedTime(publishedAt, deliveredAt).TotalMilliseconds);
        }

        return LatencySummary.Of(latencies);
    }

    /// <summary>Small write transactions (insert a row, update a balance, commit) from several clients, the shape of EventShop's handlers.</summary>
    public async Task<ProbeResult> DatabaseAsync()
    {
        var database = $"bench_probe_{Guid.NewGuid():N}"[..24];
        await using (var admin = new NpgsqlConnection(options.PostgresConnectionString("postgres")))
        {
            await admin.OpenAsync();
            await Execute(admin, $"CREATE DATABASE {database}");
        }

        try
        {
            return await MeasureDatabaseAsync(options.PostgresConnectionString(database, options.DatabaseProbeClients + 2));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(options.PostgresConnectionString("postgres"));
            await admin.OpenAsync();
            // FORCE cannot end an autovacuum worker busy in the probe's database (our user may not signal it, and
            // PostgreSQL 15 then fails the DROP); after the probe's updates one often is, for a moment.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await Execute(admin, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
                    break;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 40)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250));
                }
            }
        }
    }

    async Task<ProbeResult> MeasureDatabaseAsync(string connectionString)
    {
        const int accounts = 1000;
        await using (var setup = new NpgsqlConnection(connectionString))
        {
            await setup.OpenAsync();
            await Execute(setup, """
                CREATE TABLE probe_ledger (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id int NOT NULL, amount numeric(18,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
                CREATE TABLE probe_accounts (id int PRIMARY KEY, balance numeric(18,2) NOT NULL);
                """);
            await Execute(setup, $"INSERT INTO probe_accounts SELECT g, 1000000 FROM generate_series(1, {accounts}) g");
        }

        long committed = 0;
        var counting = false;
        using (var stop = new CancellationTokenSource())
        {
            var clients = Enumerable.Range(0, options.DatabaseProbeClients)
                .Select(_ => Task.Run(() => RunTransactionsAsync(connectionString, accounts, _ =>
                {
                    if (Volatile.Read(ref counting))
                        Interlocked.Increment(ref committed);
                }, () => !stop.IsCancellationRequested)))
                .ToArray();
            await Task.Delay(TimeSpan.FromSeconds(1));
            Volatile.Write(ref counting, true);
            var watch = Stopwatch.StartNew();
            await Task.Delay(options.ProbeDuration);
            Volatile.Write(ref counting, false);
            var seconds = watch.Elapsed.TotalSeconds;
            var count = Interlocked.Read(ref committed);
            await stop.CancelAsync();
            await Task.WhenAll(clients);

            // Then the same transaction from one client alone: what each handler's commit costs an order at least.
            var latencies = new List<double>();
            var aloneUntil = Stopwatch.GetTimestamp() + (long)(options.ProbeDuration.TotalSeconds * Stopwatch.Frequency);
            await RunTransactionsAsync(connectionString, accounts, latencies.Add, () => Stopwatch.GetTimestamp() < aloneUntil);
            return new ProbeResult("database", count / seconds, count, seconds,
                $"Npgsql, {options.DatabaseProbeClients} clients, BEGIN; INSERT; UPDATE; COMMIT (synchronous_commit as configured); alone: the same from one client",
                LatencySummary.Of(latencies));
        }
    }

    /// <summary>Runs BEGIN; INSERT; UPDATE; COMMIT on one connection while <paramref name="running"/> says so (never cancelled
    /// halfway: a probe client stops between transactions), reporting each transaction's duration in ms.</summary>
    static async Task RunTransactionsAsync(string connectionString, int accounts, Action<double> committed, Func<bool> running)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand("INSERT INTO probe_ledger (account_id, amount) VALUES ($1, $2)", connection);
        await using var update = new NpgsqlCommand("UPDATE probe_accounts SET balance = balance - $2 WHERE id = $1", connection);
        foreach (var command in new[] { insert, update })
        {
            command.Parameters.Add(new NpgsqlParameter<int>());
            command.Parameters.Add(new NpgsqlParameter<decimal>());
        }

        while (running())
        {
            var startedAt = Stopwatch.GetTimestamp();
            var account = Random.Shared.Next(1, accounts + 1);
            await using var transaction = await connection.BeginTransactionAsync();
            foreach (var command in new[] { insert, update })
            {
                command.Transaction = transaction;
                ((NpgsqlParameter<int>)command.Parameters[0]).TypedValue = account;
                ((NpgsqlParameter<decimal>)command.Parameters[1]).TypedValue = 1.25m;
                await command.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
            committed(Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds);
        }
    }

    static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static HttpClient ManagementClient(BenchOptions options)
    {
        var client = new HttpClient { BaseAddress = options.RabbitManagement, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.RabbitUser}:{options.RabbitPassword}")));
        return client;
    }
}
