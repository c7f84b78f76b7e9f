using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace EventShop.Testing;

public sealed record FaultRuleView(Guid Id, string Service, string MessageType, string Action, string? CrashPoint, int? DelayMs,
    string? CustomerId, int Times, int Fired, bool Active, DateTimeOffset CreatedAt, DateTimeOffset? LastFiredAt);

public sealed record FaultRuleListView(FaultRuleView[] Items, string[] Missing);

/// <summary>Fault rules through the gateway (<c>/api/faults</c>, ADR 0014), and the broker's error queues they fill.</summary>
public sealed class FaultLab(EventShopSystem system)
{
    /// <summary>Adds a rule; <paramref name="rule"/> is the request body (an anonymous object with the contract's fields).</summary>
    public async Task<FaultRuleView> AddAsync(object rule)
    {
        using var client = system.Operator();
        using var response = await client.PostAsJsonAsync("/api/faults", rule);
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"adding fault rule: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<FaultRuleView>())!;
    }

    public async Task<FaultRuleView> GetAsync(Guid id)
    {
        using var client = system.Operator();
        return await client.GetJsonAsync<FaultRuleView>($"/api/faults/{id}");
    }

    public async Task<FaultRuleListView> ListAsync()
    {
        using var client = system.Operator();
        return await client.GetJsonAsync<FaultRuleListView>("/api/faults");
    }

    public async Task DeleteAsync(Guid id)
    {
        using var client = system.Operator();
        using var response = await client.DeleteAsync($"/api/faults/{id}");
        if (response.StatusCode is not (HttpStatusCode.NoContent or HttpStatusCode.NotFound))
            throw new InvalidOperationException($"deleting fault rule {id}: {(int)response.StatusCode}");
    }

    /// <summary>
    /// The messages waiting in <paramref name="queue"/>, read and put back (the management API's get with requeue). Each look
    /// counts as a delivery of every message of a quorum queue, and at the error queue's delivery limit (10) the broker drops
    /// the message as a dead-letter cycle: a test looks a few times, never in a long poll (count with the queue's depth).
    /// </summary>
    public async Task<JsonElement[]> PeekAsync(string queue)
    {
        using var http = TestInfrastructure.ManagementClient(system.Broker);
        using var response = await http.PostAsJsonAsync($"api/queues/{Uri.EscapeDataString(system.VirtualHost)}/{Uri.EscapeDataString(queue)}/get",
            new { count = 100, ackmode = "ack_requeue_true", encoding = "auto" });
        if (response.StatusCode == HttpStatusCode.NotFound)
            return [];
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement[]>() ?? [];
    }

    public async Task PurgeAsync(string queue)
    {
        using var http = TestInfrastructure.ManagementClient(system.Broker);
        await http.DeleteAsync($"api/queues/{Uri.EscapeDataString(system.VirtualHost)}/{Uri.EscapeDataString(queue)}/contents");
    }

    /// <summary>Waits until <paramref name="queue"/> holds a message about <paramref name="orderId"/> and returns it.</summary>
    public async Task<JsonElement> WaitForMessageAsync(string queue, Guid orderId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            foreach (var message in await PeekAsync(queue))
            {
                if (Mentions(message, orderId))
                    return message;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no message about order {orderId} reached {queue}");
            await Task.Delay(250);
        }
    }

    /// <summary>Messages in the system's <c>_error</c> queues about any of <paramref name="orderIds"/>, by queue.</summary>
    public async Task<Dictionary<string, int>> ErrorQueueMessagesAboutAsync(IReadOnlyCollection<Guid> orderIds)
    {
        using var http = TestInfrastructure.ManagementClient(system.Broker);
        var queues = await http.GetFromJsonAsync<JsonElement[]>($"api/queues/{Uri.EscapeDataString(system.VirtualHost)}?columns=name") ?? [];
        var found = new Dictionary<string, int>();
        foreach (var name in queues.Select(q => q.GetProperty("name").GetString()!).Where(n => n.EndsWith("_error", StringComparison.Ordinal)))
        {
            var about = (await PeekAsync(name)).Count(message => orderIds.Any(id => Mentions(message, id)));
            if (about > 0)
                found[name] = about;
        }
        return found;
    }

    static bool Mentions(JsonElement message, Guid orderId) =>
        message.TryGetProperty("payload", out var payload) && payload.GetString() is { } text
        && text.Contains(orderId.ToString(), StringComparison.OrdinalIgnoreCase);
}
