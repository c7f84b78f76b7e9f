namespace EventShop.Dashboard.Failures;

/// <summary>
/// How the dashboard reaches the broker's error queues (section <c>RabbitMq</c>, the same keys as the services' bus). The
/// management API lists the queues; reading, retrying and discarding go over AMQP. Its own user when the broker has one
/// per service (<c>RabbitMq:ManagementUsername</c>/<c>ManagementPassword</c>, else <c>Username</c>/<c>Password</c>).
/// </summary>
public sealed class BrokerSettings
{
    public const string Section = "RabbitMq";

    public string Host { get; set; } = "localhost";
    public int Port { get; set; } = 5672;
    public string VirtualHost { get; set; } = "eventshop";
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
    public string? ManagementUrl { get; set; }
    public int ManagementPort { get; set; } = 15672;
    public string? ManagementUsername { get; set; }
    public string? ManagementPassword { get; set; }

    public Uri ManagementAddress => new(ManagementUrl ?? $"http://{Host}:{ManagementPort}/");
}
