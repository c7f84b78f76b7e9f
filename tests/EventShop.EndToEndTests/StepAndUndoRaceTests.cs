using System.Text.Json;
using EventShop.Testing;
using RabbitMQ.Client;

namespace EventShop.EndToEndTests;

/// <summary>
/// A step and its undo can reach Accounts at the same moment (the saga timed out on the step and compensates while the step
/// is still queued). ADR 0004: whichever runs first, the order ends with either the step and its undo or a void marker and
/// no step; never money moved that nobody gives back.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class StepAndUndoRaceTests(EventShopSystem system)
{
    const int Orders = 80;
    readonly ShopClient _shop = new(system);

    [Fact]
    public async Task When_a_credit_and_its_reversal_arrive_together_Should_leave_the_merchant_with_nothing()
    {
        var merchant = ShopClient.NewId("race-shop");
        await _shop.CreateAccountAsync(merchant, "merchant", 0m);

        var orderIds = await RaceAsync(
            orderId => ("credit-merchant", Envelope("CreditMerchant", new { orderId, merchantId = merchant, amount = 10.00m })),
            orderId => ("reverse-merchant-credit", Envelope("ReverseMerchantCredit", new { orderId, merchantId = merchant })));

        await AssertEveryStepUndoneAsync(orderIds, step: "Credit", undo: "CreditReversal", voided: "CreditVoided");
        Assert.Equal(0.00m, (await _shop.AccountAsync(merchant)).Balance);
    }

    [Fact]
    public async Task When_a_debit_and_its_refund_arrive_together_Should_leave_the_customer_whole()
    {
        var customer = ShopClient.NewId("race-cust");
        await _shop.CreateAccountAsync(customer, "customer", 1000m);

        var orderIds = await RaceAsync(
            orderId => ("debit-customer", Envelope("DebitCustomer", new { orderId, customerId = customer, amount = 10.00m })),
            orderId => ("refund-customer", Envelope("RefundCustomer", new { orderId, customerId = customer })));

        await AssertEveryStepUndoneAsync(orderIds, step: "Debit", undo: "Refund", voided: "DebitVoided");
        Assert.Equal(1000.00m, (await _shop.AccountAsync(customer)).Balance);
    }

    /// <summary>Sends a step and its undo for <see cref="Orders"/> fresh orders, each pair at the same moment, and waits until Accounts consumed all.</summary>
    async Task<Guid[]> RaceAsync(Func<Guid, (string Queue, (Guid MessageId, byte[] Body) Message)> step,
        Func<Guid, (string Queue, (Guid MessageId, byte[] Body) Message)> undo)
    {
        var orderIds = Enumerable.Range(0, Orders).Select(_ => Guid.NewGuid()).ToArray();
        var messageIds = new List<Guid>();
        await using (var connection = await ConnectAsync())
        await using (var stepChannel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true)))
        await using (var undoChannel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true)))
        {
            foreach (var orderId in orderIds)
            {
                var (stepQueue, stepMessage) = step(orderId);
                var (undoQueue, undoMessage) = undo(orderId);
                messageIds.AddRange([stepMessage.MessageId, undoMessage.MessageId]);
                await Task.WhenAll(
                    SendAsync(stepChannel, stepQueue, stepMessage.Body),
                    SendAsync(undoChannel, undoQueue, undoMessage.Body));
            }
        }

        await WaitUntilConsumedAsync(messageIds);
        return orderIds;
    }

    /// <summary>Each order ends with the step and its undo, or with a void marker and no step; never a step left standing.</summary>
    async Task AssertEveryStepUndoneAsync(Guid[] orderIds, string step, string undo, string voided)
    {
        var accounts = system.ConnectionString("Accounts");
        var orderList = string.Join(",", orderIds.Select(id => $"'{id}'"));
        Assert.Equal(0, await Invariants.ScalarAsync(accounts, $"""
            SELECT count(*) FROM accounts.ledger_entries s
            WHERE s."Type" = '{step}' AND s."OrderId" IN ({orderList})
              AND NOT EXISTS (SELECT 1 FROM accounts.ledger_entries u WHERE u."OrderId" = s."OrderId" AND u."Type" = '{undo}')
            """));
        Assert.Equal(Orders, await Invariants.ScalarAsync(accounts, $"""
            SELECT count(DISTINCT "OrderId") FROM accounts.ledger_entries
            WHERE "OrderId" IN ({orderList}) AND "Type" IN ('{undo}', '{voided}')
            """));
        Assert.Equal(0, await Invariants.ContradictoryLedgerEntriesAsync(system));
    }

    async Task<IConnection> ConnectAsync()
    {
        var factory = new ConnectionFactory
        {
            HostName = system.Broker.Host,
            Port = system.Broker.AmqpPort,
            UserName = system.Broker.Username,
            Password = system.Broker.Password,
            VirtualHost = system.VirtualHost,
        };
        return await factory.CreateConnectionAsync("step-and-undo-race-test");
    }

    /// <summary>MassTransit's JSON envelope, written by hand: the test speaks the wire format, as any other publisher could.</summary>
    static (Guid MessageId, byte[] Body) Envelope(string contract, object message)
    {
        var messageId = Guid.NewGuid();
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            messageId,
            messageType = new[] { $"urn:message:EventShop.Contracts.Accounts:{contract}" },
            message,
            sentTime = DateTimeOffset.UtcNow,
        });
        return (messageId, body);
    }

    /// <summary>Each MassTransit receive endpoint has an exchange of its own name bound to its queue.</summary>
    static async Task SendAsync(IChannel channel, string queue, byte[] body) =>
        await channel.BasicPublishAsync(queue, "", mandatory: true,
            new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true }, body);

    async Task WaitUntilConsumedAsync(List<Guid> messageIds)
    {
        var ids = string.Join(",", messageIds.Select(id => $"'{id}'"));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long consumed;
        while ((consumed = await Invariants.ScalarAsync(system.ConnectionString("Accounts"),
                   $"SELECT count(*) FROM messaging.inbox_messages WHERE \"MessageId\" IN ({ids})")) < messageIds.Count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {consumed} of {messageIds.Count} messages consumed after 60 s\n{system.Diagnostics()}");
            await Task.Delay(200);
        }
    }
}
