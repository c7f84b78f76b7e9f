using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace EventShop.EndToEndTests;

/// <summary>What the broker permission tests do as one broker user: log in, publish, ask the management API who it is.</summary>
static class BrokerClient
{
    public const ushort AccessRefused = 403;

    public static Task<IConnection> ConnectAsync(string host, int port, string virtualHost, string user, string password) =>
        new ConnectionFactory { HostName = host, Port = port, VirtualHost = virtualHost, UserName = user, Password = password }
            .CreateConnectionAsync();

    /// <summary>
    /// An empty message published to the exchange, with publisher confirms, on a channel of its own: null when the broker
    /// confirmed it, otherwise the code the broker closed the channel with (403 when refused).
    /// </summary>
    public static async Task<ushort?> PublishAsync(IConnection connection, string exchange)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));

        var publish = await Record.ExceptionAsync(async () => await channel.BasicPublishAsync(exchange, "", mandatory: false,
            new BasicProperties { ContentType = "application/vnd.masstransit+json" }, Encoding.UTF8.GetBytes("{}")));
        if (publish is null)
            return null;

        // The broker closes the channel on a refused publish, a moment after the frame was sent.
        for (var attempt = 0; attempt < 50 && channel.IsOpen; attempt++)
            await Task.Delay(100);
        return channel.CloseReason?.ReplyCode;
    }

    /// <summary>Whether the broker refused the login itself (not the network, not the vhost).</summary>
    public static bool IsRefusedLogin(Exception? failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationFailureException)
                return true;
        }

        return false;
    }

    /// <summary>GET /api/whoami of the management API as the user: the status, and the user's tags when it answered 200.</summary>
    public static async Task<(HttpStatusCode Status, string[] Tags)> WhoAmIAsync(int managementPort, string user, string password)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://localhost:{managementPort}/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await http.GetAsync(new Uri("api/whoami", UriKind.Relative));
        if (response.StatusCode != HttpStatusCode.OK)
            return (response.StatusCode, []);
        var whoami = await response.Content.ReadFromJsonAsync<WhoAmI>();
        return (response.StatusCode, whoami?.Tags ?? []);
    }

    sealed record WhoAmI(string Name, string[] Tags);
}
