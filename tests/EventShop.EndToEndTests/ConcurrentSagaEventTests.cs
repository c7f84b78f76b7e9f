using System.Diagnostics;
using System.Text.Json;
using EventShop.Testing;
using Npgsql;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace EventShop.EndToEndTests;

/// <summary>
/// Two saga hosts, and two events for the same saga at the same moment, one at each host: the step's reply against its
/// timeout, or against an operator's cancel. The saga store loads the instance with <c>SELECT ... FOR UPDATE</c> (ADR 0003:
/// row locks, not optimistic versions), so one host applies its event and commits, and the other, which waited on the row,
/// reads the state the first committed and applies its event to that. The test holds the row itself until both hosts wait
/// on it (seen in <c>pg_stat_activity</c>), so the two events really meet, then lets go.
/// </summary>
[Collection(ReplicatedSystemCollection.Name)]
public sealed class ConcurrentSagaEventTests(ReplicatedEventShopSystem system, ITestOutputHelper output)
{
    const string SagaQueue = "order-state";
    readonly ShopClient _shop = new(system);
    readonly FaultLab _faults = new(system);

    /// <summary>How many distinct saga hosts waited on the row, per race: the broker chooses, so at least one race must show two.</summary>
    readonly List<int> _hostsWaiting = [];

    [Fact]
    public async Task When_a_reply_and_its_step_timeout_meet_at_two_saga_hosts_Should_apply_one_and_end_the_saga_once()
    {
        var outcomes = new List<string>();
        for (var race = 0; race < 2; race++)
        {
            var winner = await RaceInAccruingAsync(async (id, token) =>
            {
                await PublishAsync(Envelope("urn:message:EventShop.Sagas.OrderPlacement:OrderStepTimedOut",
                    new { orderId = id, stepToken = token, state = "Accruing" }));
            }, rival: "OrderStepTimedOut", rivalOutcome: "Cancelled", rivalReason: "Points accrual timed out");
            outcomes.Add(winner);
        }
        Assert.Contains(2, _hostsWaiting);
        output.WriteLine($"[fault battery] reply vs step timeout at two saga hosts, winners: {string.Join(", ", outcomes)}");
    }

    [Fact]
    public async Task When_a_reply_and_an_operator_cancel_meet_at_two_saga_hosts_Should_apply_one_and_end_the_saga_once()
    {
        var outcomes = new List<string>();
        for (var race = 0; race < 2; race++)
        {
            var winner = await RaceInAccruingAsync(async (id, _) =>
            {
                // Through the API, as an operator would: it reads the saga without a lock (Accruing: it may be cancelled) and
                // sends CancelSaga through the saga host's outbox.
                await _shop.OperatorPostAsync($"/api/sagas/{id}/cancel");
            }, rival: "CancelSaga", rivalOutcome: "Cancelled", rivalReason: "Cancelled by operator");
            outcomes.Add(winner);
        }
        Assert.Contains(2, _hostsWaiting);
        output.WriteLine($"[fault battery] reply vs operator cancel at two saga hosts, winners: {string.Join(", ", outcomes)}");
    }

    /// <summary>
    /// An order held in Accruing (its accrual's reply is lost, the 20 s step timeout far off), its row locked by the test; the
    /// lost reply and <paramref name="sendRival"/> sent; released once two sessions wait on the row. Returns who won.
    /// </summary>
    async Task<string> RaceInAccruingAsync(Func<Guid, Guid, Task> sendRival, string rival, string rivalOutcome, string rivalReason)
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(50m, "saga-race");
        await _faults.AddAsync(new { service = "points", messageType = "AccruePoints", action = "drop-reply", customerId = customer, times = 1 });
        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 10m);
        await WaitForStateAsync(orderId, "Accruing");
        // The accrual happened and only its reply is lost: what the test sends next is that reply, as a late copy would be.
        await WaitUntilAsync(async () => await AccrualEntriesAsync(orderId, "Accrual") == 1, $"the points of {orderId} were never accrued");

        var raced = Stopwatch.StartNew();
        string[] waiters;
        await using (var holder = new NpgsqlConnection(system.ConnectionString("Sagas")))
        {
            await holder.OpenAsync();
            await using var transaction = await holder.BeginTransactionAsync();
            await using (var lockRow = new NpgsqlCommand("""SELECT "CurrentState", "StepToken" FROM sagas.order_states WHERE "CorrelationId" = @id FOR UPDATE""", holder, transaction))
            {
                lockRow.Parameters.AddWithValue("id", orderId);
                await using var reader = await lockRow.ExecuteReaderAsync();
                Assert.True(await reader.ReadAsync());
                Assert.Equal("Accruing", reader.GetString(0));
                var token = reader.GetGuid(1);
                await reader.CloseAsync();

                var lostReply = Envelope("urn:message:EventShop.Contracts.Points:PointsAccrued", new { orderId, customerId = customer, points = 10L });
                await Task.WhenAll(PublishAsync(lostReply), sendRival(orderId, token));
            }

            waiters = await SessionsWaitingOnALockAsync(holder, count: 2);
            _hostsWaiting.Add(waiters.Distinct().Count());
            await transaction.RollbackAsync();
        }

        var order = await _shop.WaitForOutcomeAsync(orderId);
        var saga = await _shop.SagaAsync(orderId);
        var history = saga.History!;
        output.WriteLine($"order {orderId}: waiting on the row {string.Join(" and ", waiters)}; {order.Status} ({order.FailureReason}) " +
            $"{raced.Elapsed.TotalSeconds:F1} s after the race was staged; {string.Join(" -> ", history.Select(h => h.ToState))}");

        // Both events reached the saga (each is recorded with the state it met), one after the other: the one that came
        // second met the state the first had committed and changed nothing.
        var records = await RecordsAsync(orderId);
        var reply = records.Single(r => r.Type.EndsWith(":PointsAccrued", StringComparison.Ordinal));
        var rivalRecord = records.Single(r => r.Type.EndsWith(":" + rival, StringComparison.Ordinal));
        var (first, second) = reply.Id < rivalRecord.Id ? (reply, rivalRecord) : (rivalRecord, reply);
        Assert.Equal("Accruing", first.Before);
        Assert.NotEqual("Accruing", first.After);
        Assert.Equal(first.After, second.Before);
        Assert.Equal(second.Before, second.After);
        Assert.Equal(0, second.Sent);

        // One outcome, reached once, with one compensation at most: each transition out of Accruing and into an end state once.
        Assert.Single(history, h => h.FromState == "Accruing");
        Assert.Single(history, h => h.ToState is "Completed" or "Cancelled");
        foreach (var undoing in new[] { "ReversingPoints", "ReversingCredit", "Refunding" })
            Assert.True(history.Count(h => h.ToState == undoing) <= 1, $"{undoing} entered more than once");
        var winner = first == reply ? "PointsAccrued" : rival;
        if (winner == "PointsAccrued")
        {
            Assert.Equal("Completed", order.Status);
            Assert.Equal(40m, (await _shop.AccountAsync(customer)).Balance);
            Assert.Equal(10m, (await _shop.AccountAsync(merchant)).Balance);
            Assert.Equal(10, (await _shop.PointsAsync(customer)).Balance);
        }
        else
        {
            Assert.Equal(rivalOutcome, order.Status);
            Assert.Equal(rivalReason, order.FailureReason);
            Assert.Equal(["ReversingPoints", "ReversingCredit", "Refunding", "Cancelled"], history.SkipWhile(h => h.ToState != "ReversingPoints").Select(h => h.ToState));
            Assert.Equal(50m, (await _shop.AccountAsync(customer)).Balance);
            Assert.Equal(0m, (await _shop.AccountAsync(merchant)).Balance);
            Assert.Equal(0, (await _shop.PointsAsync(customer)).Balance);
        }
        Assert.Equal(1, await AccrualEntriesAsync(orderId, "Accrual"));
        Assert.Equal(winner == "PointsAccrued" ? 0 : 1, await AccrualEntriesAsync(orderId, "Reversal"));
        await system.AssertSettledAsync();
        return winner;
    }

    Task<long> AccrualEntriesAsync(Guid orderId, string type) => Invariants.ScalarAsync(system.ConnectionString("Points"),
        $"SELECT count(*) FROM points.points_entries WHERE \"OrderId\" = '{orderId}' AND \"Type\" = '{type}'");

    static async Task WaitUntilAsync(Func<Task<bool>> condition, string because)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), because);
            await Task.Delay(100);
        }
    }

    sealed record Recorded(long Id, string Type, string Before, string After, int Sent);

    async Task<List<Recorded>> RecordsAsync(Guid orderId)
    {
        await using var connection = new NpgsqlConnection(system.ConnectionString("Sagas"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT "Id", "MessageType", "StateBefore"->>'currentState', "StateAfter"->>'currentState', jsonb_array_length("Sent")
            FROM sagas.order_saga_messages WHERE "OrderId" = @id ORDER BY "Id"
            """, connection);
        command.Parameters.AddWithValue("id", orderId);
        var records = new List<Recorded>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            records.Add(new Recorded(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? "" : reader.GetString(2),
                reader.IsDBNull(3) ? "" : reader.GetString(3), reader.IsDBNull(4) ? 0 : reader.GetInt32(4)));
        return records;
    }

    /// <summary>Waits until <paramref name="count"/> other sessions wait on a lock in the saga database; returns their application names.</summary>
    static async Task<string[]> SessionsWaitingOnALockAsync(NpgsqlConnection holder, int count)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var names = new List<string>();
            await using (var query = new NpgsqlCommand("""
                SELECT application_name FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
                """, holder))
            await using (var reader = await query.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                    names.Add(reader.GetString(0));
            }
            if (names.Count >= count)
                return [.. names.Order()];
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"only {names.Count} session(s) wait on the saga row after 30 s");
            await Task.Delay(50);
        }
    }

    async Task WaitForStateAsync(Guid orderId, string state)
    {
        var deadline = Stopwatch.StartNew();
        while ((await _shop.FindSagaAsync(orderId))?.State != state)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"the saga of {orderId} never reached {state}");
            await Task.Delay(100);
        }
    }

    /// <summary>MassTransit's JSON envelope, written by hand, to the saga's receive endpoint (an exchange of the queue's name).</summary>
    async Task PublishAsync(byte[] body)
    {
        var factory = new ConnectionFactory
        {
            HostName = system.Broker.Host,
            Port = system.Broker.AmqpPort,
            UserName = system.Broker.Username,
            Password = system.Broker.Password,
            VirtualHost = system.VirtualHost,
        };
        await using var connection = await factory.CreateConnectionAsync("concurrent-saga-event-test");
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        await channel.BasicPublishAsync(SagaQueue, "", mandatory: true,
            new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true }, body);
    }

    static byte[] Envelope(string messageType, object message) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        messageId = Guid.NewGuid(),
        messageType = new[] { messageType },
        message,
        sentTime = DateTimeOffset.UtcNow,
    });
}
