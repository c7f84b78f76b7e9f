namespace EventShop.Messaging.Hosting;

/// <summary>Where the service's bus connects, and as whom (section <c>RabbitMq</c>).</summary>
public sealed class RabbitMqSettings
{
    public const string Section = "RabbitMq";

    public string Host { get; set; } = "localhost";
    public ushort Port { get; set; } = 5672;
    public string VirtualHost { get; set; } = "eventshop";
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";

    /// <summary>
    /// Deliveries of one message to a queue's consumers (x-delivery-limit) before the broker dead-letters it to the queue's
    /// _error queue. Only returns count (a consumer process that dies, or a nack): in-process retries do not. Without it a
    /// message that kills its consumer crash-loops the service on RabbitMQ 3.x, and RabbitMQ 4.x drops it at its default (ADR 0008).
    /// </summary>
    public int DeliveryLimit { get; set; } = 10;

    /// <summary>
    /// How long a receive endpoint may stay down while the broker accepts connections before the service ends itself for
    /// its supervisor to restart it (<see cref="ReceiveEndpointWatchdog"/>). Longer than MassTransit's own reconnect back-off
    /// (up to 30 s between attempts), so an endpoint about to reconnect by itself is left to do so. Zero turns it off.
    /// </summary>
    public TimeSpan EndpointRecoveryBudget { get; set; } = TimeSpan.FromSeconds(60);
}
