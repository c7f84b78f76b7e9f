using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace EventShop.Dashboard.Failures;

/// <summary>What to do with one message met while walking an error queue.</summary>
public enum ErrorQueueAction
{
    Keep,
    Retry,
    Discard,
}

/// <summary>
/// The broker's <c>&lt;queue&gt;_error</c> queues, read without losing anything: messages are fetched unacknowledged
/// (basic.get), looked at, and put back at the end of the queue as copies (<see cref="KeepAsync"/>) unless an operator's
/// action takes them. A retry publishes
/// the message, unchanged and with its own message id, to the queue it failed on (publisher-confirmed, mandatory) before
/// it is acknowledged in the error queue: a crash in between leaves a copy in both, and the receiver's inbox makes its
/// effect happen once.
/// </summary>
public sealed partial class ErrorQueues(IOptions<BrokerSettings> options, IHttpClientFactory httpClients)
{
    public const int MaxPerQueue = 1000;
    readonly BrokerSettings _settings = options.Value;

    /// <summary>Every error queue of the vhost, by the management API.</summary>
    public async Task<string[]> QueuesAsync(CancellationToken cancellationToken)
    {
        using var http = httpClients.CreateClient(nameof(ErrorQueues));
        http.BaseAddress = _settings.ManagementAddress;
        var credentials = $"{_settings.ManagementUsername ?? _settings.Username}:{_settings.ManagementPassword ?? _settings.Password}";
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        var queues = await http.GetFromJsonAsync<QueueInfo[]>(
            $"api/queues/{Uri.EscapeDataString(_settings.VirtualHost)}?columns=name", cancellationToken) ?? [];
        // Every error queue, not only those the management API counts messages in: its counts lag by seconds.
        return [.. queues.Where(q => q.Name.EndsWith("_error", StringComparison.Ordinal)).Select(q => q.Name).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// How many messages wait in each queue, by a passive declare on one connection: exact (the management API's counts lag),
    /// and nothing is delivered, so the live view can tell whether anything changed without walking the queues.
    /// </summary>
    public async Task<Dictionary<string, uint>> CountsAsync(IEnumerable<string> queues, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectionFactory().CreateConnectionAsync(cancellationToken);
        var counts = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (var queue in queues)
        {
            // A queue deleted meanwhile closes the channel: one channel per queue keeps the others countable.
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            try
            {
                counts[queue] = (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
            {
                counts[queue] = 0;
            }
        }
        return counts;
    }

    ConnectionFactory ConnectionFactory() => new()
    {
        HostName = _settings.Host, Port = _settings.Port, VirtualHost = _settings.VirtualHost,
        UserName = _settings.Username, Password = _settings.Password, ClientProvidedName = "eventshop-dashboard",
    };

    /// <summary>
    /// Walks <paramref name="queue"/> once: each message is shown to <paramref name="decide"/>, which keeps it (handed back),
    /// retries it (to the queue it failed on) or discards it (acknowledged, gone). Returns what it met and what was done.
    /// </summary>
    public async Task<IReadOnlyList<(FailedMessage Message, ErrorQueueAction Done)>> WalkAsync(string queue,
        Func<FailedMessage, ErrorQueueAction> decide, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectionFactory().CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);

        var met = new List<(FailedMessage, ErrorQueueAction)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // The messages there when the walk began, once each: a kept message goes back to the end of the queue.
        var depth = (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
        for (var i = 0; i < Math.Min(depth, MaxPerQueue); i++)
        {
            var delivery = await channel.BasicGetAsync(queue, autoAck: false, cancellationToken);
            if (delivery is null)
                break;
            var message = Describe(queue, delivery);
            if (!seen.Add(message.MessageId))
            {
                // Our own copy came round: the rest of the originals are held elsewhere for now (a service's redeliverer).
                await KeepAsync(channel, queue, delivery, cancellationToken);
                break;
            }
            var action = decide(message);
            if (action == ErrorQueueAction.Retry)
            {
                await channel.BasicPublishAsync("", InputQueue(queue, message.Headers), mandatory: true,
                    Copy(delivery, h => !h.StartsWith("MT-Fault-", StringComparison.Ordinal) && h != "MT-Reason" && !h.StartsWith("x-", StringComparison.Ordinal)),
                    delivery.Body, cancellationToken);
                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
            }
            else if (action == ErrorQueueAction.Discard)
            {
                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
            }
            else
            {
                await KeepAsync(channel, queue, delivery, cancellationToken);
            }
            met.Add((message, action));
        }
        return met;
    }

    /// <summary>
    /// Puts a message back at the end of its error queue as a new message (publisher-confirmed), then acknowledges the one
    /// taken. Not a nack with requeue: error queues are quorum queues with the endpoint's delivery limit, every requeue counts
    /// as a delivery, and at the limit the broker dead-letters the message to its own queue, which it drops as a dead-letter
    /// cycle: looking at a failed message ten times lost it (issue 22). A crash in between leaves two copies, never none.
    /// </summary>
    static async Task KeepAsync(IChannel channel, string queue, BasicGetResult delivery, CancellationToken cancellationToken)
    {
        await channel.BasicPublishAsync("", queue, mandatory: true, Copy(delivery, h => h != "x-delivery-count"), delivery.Body, cancellationToken);
        await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
    }

    static BasicProperties Copy(BasicGetResult delivery, Func<string, bool> keepHeader) => new(delivery.BasicProperties)
    {
        Headers = delivery.BasicProperties.Headers?.Where(h => keepHeader(h.Key)).ToDictionary(h => h.Key, h => h.Value),
    };

    /// <summary>The queue the message failed on: MassTransit's fault header names it; a message the broker dead-lettered has none.</summary>
    static string InputQueue(string errorQueue, IReadOnlyDictionary<string, string>? headers)
    {
        if (headers is not null && headers.TryGetValue("MT-Fault-InputAddress", out var input) && Uri.TryCreate(input, UriKind.Absolute, out var address))
        {
            var name = address.AbsolutePath.TrimEnd('/').Split('/')[^1];
            if (name.Length > 0)
                return name;
        }
        return errorQueue[..^"_error".Length];
    }

    static FailedMessage Describe(string queue, BasicGetResult delivery)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in delivery.BasicProperties.Headers ?? new Dictionary<string, object?>())
            headers[key] = HeaderText(value);

        var body = Encoding.UTF8.GetString(delivery.Body.Span);
        string? messageId = delivery.BasicProperties.MessageId;
        string messageType = headers.GetValueOrDefault("MT-Fault-MessageType") ?? "unknown";
        Guid? orderId = null;
        try
        {
            using var envelope = JsonDocument.Parse(body);
            var root = envelope.RootElement;
            if (root.TryGetProperty("messageId", out var id) && id.ValueKind == JsonValueKind.String)
                messageId ??= id.GetString();
            if (root.TryGetProperty("messageType", out var types) && types.ValueKind == JsonValueKind.Array && types.GetArrayLength() > 0)
                messageType = types[0].GetString()?.Split(':')[^1] ?? messageType;
            if (root.TryGetProperty("message", out var inner) && inner.ValueKind == JsonValueKind.Object
                && inner.TryGetProperty("orderId", out var order) && order.TryGetGuid(out var parsed))
                orderId = parsed;
        }
        catch (JsonException)
        {
            // Not a MassTransit envelope: shown as it is.
        }
        messageType = messageType.Split('.')[^1];

        var error = headers.TryGetValue("MT-Fault-ExceptionType", out var exceptionType)
            ? $"{exceptionType.Split('.')[^1]}: {headers.GetValueOrDefault("MT-Fault-Message")}"
            : "Dead-lettered by the broker (delivery limit reached)";
        DateTimeOffset? failedAt = headers.TryGetValue("MT-Fault-Timestamp", out var at)
            && DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var stamp) ? stamp : null;
        var attempts = headers.TryGetValue("MT-Fault-RetryCount", out var retries) && int.TryParse(retries, CultureInfo.InvariantCulture, out var count)
            ? count + 1 : 1;
        messageId ??= $"tag-{delivery.DeliveryTag}";

        return new FailedMessage(FailureId.For(FailureId.ErrorQueue, queue, messageId), ServiceOf(queue, headers), queue, "error-queue",
            messageType, orderId, error.Length > 500 ? error[..500] : error, failedAt, attempts)
        {
            MessageId = messageId, Body = body, Headers = headers,
        };
    }

    /// <summary>The service whose consumer failed, from MassTransit's consumer-type header (EventShop.&lt;Service&gt;.…).</summary>
    static string ServiceOf(string queue, Dictionary<string, string> headers)
    {
        foreach (var header in new[] { "MT-Fault-ConsumerType", "MT-Host-Assembly" })
        {
            if (headers.TryGetValue(header, out var value) && ServiceName().Match(value) is { Success: true } match)
                return match.Groups[1].Value.ToLowerInvariant();
        }
        return queue.StartsWith("order-state", StringComparison.Ordinal) ? "sagas" : "unknown";
    }

    static string HeaderText(object? value) => value switch
    {
        null => "",
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        System.Collections.IEnumerable list and not string => string.Join(", ", list.Cast<object?>().Select(HeaderText)),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    [GeneratedRegex(@"EventShop\.(\w+)")]
    private static partial Regex ServiceName();

    sealed record QueueInfo(string Name);
}
