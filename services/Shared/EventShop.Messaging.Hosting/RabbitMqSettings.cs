namespace EventShop.Messaging.Hosting;

/// <summary>Where the service's bus connects, and as whom (section <c>RabbitMq</c>).</summary>
public sealed class RabbitMqSettings
{
    public const string Section = "RabbitMq";

    public string Host { get; set; } = "localhost";
    public ushort Port { get; set; } = 5672;
    public string VirtualHost { get; set; } = "eventshop";
    public string Username { get; set; } = "eventshop";
    public string Password { get; set; } = "eventshop";
}
