using System.Text;
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
    const ushort AccessRefused = 403;

    [Theory]
    // An event of another service: an order that nobody submitted, a debit that never happened.
    [InlineData("accounts", "EventShop.Contracts.Orders:OrderSubmitted")]
    [InlineData("orders", "EventShop.Contracts.Accounts:CustomerDebited")]
    [InlineData("points", "EventShop.Contracts.Accounts:MerchantCredited")]
    // A command only the saga sends: a refund for a completed order, a credit from nowhere.
    [InlineData("accounts", "EventShop.Contracts.Accounts:RefundCustomer")]
    [InlineData("orders", "EventShop.Contracts.Accounts:CreditMerchant")]
    [InlineData("points", "EventShop.Sagas.OrderPlacement:CancelSaga")]
    // Another service's failure, which would make the saga compensate.
    [InlineData("orders", "MassTransit:Fault--EventShop.Contracts.Points:AccruePoints--")]
    public async Task A_service_publishing_what_it_does_not_own_Should_be_refused(string service, string exchange)
    {
        await using var connection = await ConnectAsAsync(service);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));

        var publish = await Record.ExceptionAsync(async () => await channel.BasicPublishAsync(exchange, "", mandatory: false,
            new BasicProperties { ContentType = "application/vnd.masstransit+json" }, Encoding.UTF8.GetBytes("{}")));

        Assert.NotNull(publish);
        Assert.Equal((ushort?)AccessRefused, await CloseCodeAsync(channel));
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
        Assert.Equal((ushort?)AccessRefused, refused.ShutdownReason?.ReplyCode);
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
        return new ConnectionFactory
        {
            HostName = user.Host,
            Port = user.AmqpPort,
            VirtualHost = system.VirtualHost,
            UserName = user.Username,
            Password = user.Password,
        }.CreateConnectionAsync();
    }

    /// <summary>The broker closes the channel on a refused publish, a moment after the frame was sent.</summary>
    static async Task<ushort?> CloseCodeAsync(IChannel channel)
    {
        for (var attempt = 0; attempt < 50 && channel.IsOpen; attempt++)
            await Task.Delay(100);
        return channel.CloseReason?.ReplyCode;
    }
}
