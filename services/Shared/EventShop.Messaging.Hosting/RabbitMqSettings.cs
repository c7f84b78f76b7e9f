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
    /// How long a receive endpoint may stay down while the broker is reachable before the bus is restarted
    /// (<see cref="ReceiveEndpointWatchdog"/>; doubled after each restart that did not cure it, up to 10 min). Zero turns it off.
    /// </summary>
    public TimeSpan EndpointRecoveryBudget { get; set; } = TimeSpan.FromSeconds(60);
}
