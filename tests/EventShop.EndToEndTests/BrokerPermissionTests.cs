using EventShop.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace EventShop.EndToEndTests;

/// <summary>
/// Each service's broker user (infra/broker-permissions, ADR 0020) may publish only its own messages and read only its
/// own queues: what a compromised or buggy service could forge is tried here, as that service, and refused by the broker.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class BrokerPermissionTests(EventShopSystem system)
{
    /// <summary>A service and an exchange it must not publish to (ComposeBrokerUserTests tries them on compose's users too).</summary>
    public static TheoryData<string, string> ForgedPublishes => new()
    {
        // An event of another service: an order that nobody submitted, a debit that never happened.
        { "accounts", "EventShop.Contracts.Orders:OrderSubmitted" },
        { "orders", "EventShop.Contracts.Accounts:CustomerDebited" },
        { "points", "EventShop.Contracts.Accounts:MerchantCredited" },
        // A command only the saga sends: a refund for a completed order, a credit from nowhere.
        { "accounts", "EventShop.Contracts.Accounts:RefundCustomer" },
        { "orders", "EventShop.Contracts.Accounts:CreditMerchant" },
        { "points", "EventShop.Sagas.OrderPlacement:CancelSaga" },
        // Another service's failure, which would make the saga compensate.
        { "orders", "MassTransit:Fault--EventShop.Contracts.Points:AccruePoints--" },
    };

    [Theory]
    [MemberData(nameof(ForgedPublishes))]
    public async Task A_service_publishing_what_it_does_not_own_Should_be_refused(string service, string exchange)
    {
        await using var connection = await ConnectAsAsync(service);

        Assert.Equal((ushort?)BrokerClient.AccessRefused, await BrokerClient.PublishAsync(connection, exchange));
    }

    [Theory]
    [InlineData("orders", "debit-customer")]
    [InlineData("points", "order-state")]
    [InlineData("sagas", "refund-customer")]
    [InlineData("accounts", "order-completed_error")]
    public async Task A_service_reading_another_services_queue_Should_be_refused(string service, string queue)
    {
        await using var connection = await ConnectAsAsync(service);
        await using var channel = await connection.CreateChannelAsync();

        var read = await Record.ExceptionAsync(async () => await channel.BasicGetAsync(queue, autoAck: false));

        var refused = Assert.IsType<OperationInterruptedException>(read);
        Assert.Equal((ushort?)BrokerClient.AccessRefused, refused.ShutdownReason?.ReplyCode);
    }

    [Fact]
    public async Task A_service_reading_its_own_error_queue_Should_be_allowed()
    {
        await using var connection = await ConnectAsAsync("accounts");
        await using var channel = await connection.CreateChannelAsync();

        var message = await channel.BasicGetAsync("debit-customer_error", autoAck: false);
        if (message is not null)
            await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true);

        Assert.True(channel.IsOpen);
    }

    Task<IConnection> ConnectAsAsync(string service)
    {
        var user = system.BrokerUserOf(service);
        Assert.NotEqual(system.Broker.Username, user.Username);
        return BrokerClient.ConnectAsync(user.Host, user.AmqpPort, system.VirtualHost, user.Username, user.Password);
    }
}
