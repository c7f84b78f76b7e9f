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

    /// <summary>The messages waiting in <paramref name="queue"/>, read and put back (the management API's get with requeue).</summary>
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

    /// <summary>Every <c>_error</c> queue of the system that holds a message, with how many (read, not from the lagging statistics).</summary>
    public async Task<Dictionary<string, int>> NonEmptyErrorQueuesAsync()
    {
        using var http = TestInfrastructure.ManagementClient(system.Broker);
        var queues = await http.GetFromJsonAsync<JsonElement[]>($"api/queues/{Uri.EscapeDataString(system.VirtualHost)}?columns=name") ?? [];
        var nonEmpty = new Dictionary<string, int>();
        foreach (var name in queues.Select(q => q.GetProperty("name").GetString()!).Where(n => n.EndsWith("_error", StringComparison.Ordinal)))
        {
            var messages = await PeekAsync(name);
            if (messages.Length > 0)
                nonEmpty[name] = messages.Length;
        }
        return nonEmpty;
    }

    /// <summary>The end state every fault test asks for: no ledger contradiction, outboxes drained, no error-queue message.</summary>
    public async Task AssertNothingLeftAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (await Invariants.PendingOutboxMessagesAsync(system) != 0)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the outboxes did not drain");
            await Task.Delay(250);
        }
        if (await Invariants.ContradictoryLedgerEntriesAsync(system) != 0)
            throw new InvalidOperationException("the money ledger contradicts itself");
        var errors = await NonEmptyErrorQueuesAsync();
        if (errors.Count > 0)
            throw new InvalidOperationException($"messages left in error queues: {string.Join(", ", errors.Select(e => $"{e.Key}={e.Value}"))}");
    }
}
