using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EventShop.Testing;
using Xunit.Abstractions;

namespace EventShop.EndToEndTests;

/// <summary>
/// The operator console end to end through the gateway: failed messages listed, retried (one and a group) and audited;
/// a saga in flight cancelled; an ended saga refused; stuck by budget; /metrics on every service.
/// </summary>
public sealed class OperatorConsoleTests(OperatorConsoleSystem system, ITestOutputHelper output) : IClassFixture<OperatorConsoleSystem>
{
    readonly ShopClient _shop = new(system);

    /// <summary>The Orders consumer queue of OrderCompleted, and the error queue MassTransit moves its failures to.</summary>
    const string CompletionQueue = "order-completed";

    [Fact]
    public async Task A_completion_in_the_error_queue_Should_be_listed_retried_once_and_audited()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(100m);
        var orderId = (await CompletionsInErrorQueueAsync(customer, merchant, count: 1)).Single();

        using var operatorClient = system.Operator();
        var failure = await WaitForFailureAsync(operatorClient, orderId);
        Assert.Equal("orders", failure.GetProperty("service").GetString());
        Assert.Equal("error-queue", failure.GetProperty("source").GetString());
        Assert.Equal("OrderCompleted", failure.GetProperty("messageType").GetString());
        Assert.Contains("failed the handling of OrderCompleted", failure.GetProperty("error").GetString());
        var id = failure.GetProperty("id").GetString()!;

        var detail = await operatorClient.GetFromJsonAsync<JsonElement>($"/api/failures/{id}");
        Assert.Contains(orderId.ToString(), detail.GetProperty("body").GetString());
        Assert.EndsWith("/order-completed", detail.GetProperty("headers").GetProperty("MT-Fault-InputAddress").GetString());
        Assert.Equal("Pending", (await operatorClient.GetFromJsonAsync<OrderView>($"/api/orders/{orderId}"))!.Status);

        Assert.Equal(HttpStatusCode.Accepted, (await operatorClient.PostAsync($"/api/failures/{id}/retry", null)).StatusCode);

        var order = await _shop.WaitForOutcomeAsync(orderId, TimeSpan.FromSeconds(30));
        Assert.Equal("Completed", order.Status);
        Assert.Single(await _shop.LedgerAsync(customer), e => e.OrderId == orderId);
        Assert.Equal(100m - 12.50m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(HttpStatusCode.NotFound, (await operatorClient.GetAsync($"/api/failures/{id}")).StatusCode);

        var audit = await operatorClient.GetFromJsonAsync<JsonElement>($"/api/audit?orderId={orderId}");
        var entry = Assert.Single(audit.GetProperty("items").EnumerateArray());
        Assert.Equal("failure.retry", entry.GetProperty("action").GetString());
        Assert.Equal("test-operator", entry.GetProperty("subject").GetString());
        Assert.Equal($"failure/{id}", entry.GetProperty("target").GetString());
    }

    [Fact]
    public async Task A_group_retry_Should_report_its_progress_and_end_every_order_completed()
    {
        const int count = 50;
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(1000m);
        var orderIds = await CompletionsInErrorQueueAsync(customer, merchant, count);

        using var operatorClient = system.Operator();
        var failure = await WaitForFailureAsync(operatorClient, orderIds[0]);
        var group = failure.GetProperty("group").GetString()!;
        var list = await operatorClient.GetFromJsonAsync<JsonElement>("/api/failures?service=orders&messageType=OrderCompleted&limit=1000");
        Assert.Equal(count, list.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("key").GetString() == group).GetProperty("count").GetInt32());

        var response = await operatorClient.PostAsJsonAsync("/api/failures/retry", new { group });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var started = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(count, started.GetProperty("retried").GetInt32());
        Assert.Equal(0, started.GetProperty("failed").GetInt32());

        foreach (var orderId in orderIds)
            Assert.Equal("Completed", (await _shop.WaitForOutcomeAsync(orderId, TimeSpan.FromSeconds(60))).Status);
        var progress = await operatorClient.GetFromJsonAsync<JsonElement>(response.Headers.Location!.ToString());
        Assert.Equal(count, progress.GetProperty("retried").GetInt32());
        Assert.Equal(0, progress.GetProperty("failedAgain").GetInt32());
        Assert.Equal(1000m - count * 12.50m, (await _shop.AccountAsync(customer)).Balance);

        var audit = await operatorClient.GetFromJsonAsync<JsonElement>("/api/audit?limit=1000");
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), e =>
            e.GetProperty("action").GetString() == "failure.retry-group" && e.GetProperty("detail").GetString()!.Contains($"{count} messages"));
    }

    [Fact]
    public async Task Cancel_on_a_saga_held_in_Accruing_Should_end_CancelledByOperator_with_money_and_points_back()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(100m);
        using var operatorClient = system.Operator();
        Guid orderId;
        // Points takes 20 s over this customer's accrual (the step's timeout is 90 s here): the saga is held in Accruing.
        var faults = new FaultLab(system);
        var hold = await faults.AddAsync(new { service = "points", messageType = "AccruePoints", action = "delay", delayMs = 20_000, customerId = customer });
        try
        {
            orderId = await _shop.SubmitOrderAsync(customer, merchant, 20m);
            await WaitForSagaStateAsync(orderId, "Accruing");

            // Over Accruing's budget (2 s in this system), with the reason.
            var stuck = await WaitAsync(async () =>
            {
                var list = await operatorClient.GetFromJsonAsync<JsonElement>("/api/sagas?stuck=true");
                var item = list.GetProperty("stuckItems").EnumerateArray().FirstOrDefault(x => x.GetProperty("orderId").GetGuid() == orderId);
                return (item.ValueKind == JsonValueKind.Object, item);
            }, "the saga listed as stuck");
            Assert.Equal("saga", stuck.GetProperty("kind").GetString());
            Assert.Contains("Accruing", stuck.GetProperty("reason").GetString());

            var cancel = await operatorClient.PostAsync($"/api/sagas/{orderId}/cancel", null);
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
            await WaitForSagaStateAsync(orderId, "ReversingPoints");
        }
        finally
        {
            await faults.DeleteAsync(hold.Id);
        }

        var order = await _shop.WaitForOutcomeAsync(orderId, TimeSpan.FromSeconds(60));
        Assert.Equal("Cancelled", order.Status);
        Assert.Equal("Cancelled by operator", order.FailureReason);
        var saga = await operatorClient.GetFromJsonAsync<JsonElement>($"/api/sagas/{orderId}");
        Assert.Equal("Cancelled", saga.GetProperty("state").GetString());
        Assert.Equal("CancelledByOperator", saga.GetProperty("failureCode").GetString());
        Assert.Equal(100m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(0m, (await _shop.AccountAsync(merchant)).Balance);
        Assert.Equal(0, (await _shop.PointsAsync(customer)).Balance);

        var again = await operatorClient.PostAsync($"/api/sagas/{orderId}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Conflict, (await operatorClient.PostAsync($"/api/sagas/{orderId}/retry-step", null)).StatusCode);

        var audit = await operatorClient.GetFromJsonAsync<JsonElement>($"/api/audit?orderId={orderId}");
        var entry = Assert.Single(audit.GetProperty("items").EnumerateArray());
        Assert.Equal("saga.cancel", entry.GetProperty("action").GetString());
        Assert.Equal("test-operator", entry.GetProperty("subject").GetString());
    }

    [Fact]
    public async Task Operator_actions_Should_need_the_operator_role()
    {
        var (customer, _) = await _shop.OpenCustomerAndMerchantAsync(10m);
        using var customerClient = system.Customer(customer);
        Assert.Equal(HttpStatusCode.Forbidden, (await customerClient.GetAsync("/api/failures")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await customerClient.GetAsync("/api/audit")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await customerClient.PostAsync($"/api/sagas/{Guid.NewGuid()}/cancel", null)).StatusCode);
        using var operatorClient = system.Operator();
        Assert.Equal(HttpStatusCode.NotFound, (await operatorClient.GetAsync("/api/failures/bm90LWFuLWlk")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await operatorClient.PostAsJsonAsync("/api/failures/bm90LWFuLWlk/discard", new { reason = "" })).StatusCode);
    }

    [Fact]
    public async Task Every_service_Should_answer_Prometheus_text_at_metrics()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var (name, _, _) in EventShopSystem.Services)
        {
            var response = await http.GetAsync(new Uri(system[name].BaseAddress, "/metrics"));
            Assert.True(response.IsSuccessStatusCode, $"{name}: {(int)response.StatusCode}");
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("# TYPE ", text);
            output.WriteLine($"{name}: {text.Length} characters of metrics");
        }

        var sagas = await WaitAsync(async () =>
        {
            var text = await http.GetStringAsync(new Uri(system["sagas"].BaseAddress, "/metrics"));
            return (text.Contains("eventshop_saga_instances"), text);
        }, "the saga gauges exported");
        Assert.Contains("eventshop_saga_stuck", sagas);
        Assert.Contains("eventshop_outbox_parked", sagas);
    }

    /// <summary>
    /// Places <paramref name="count"/> orders that the saga completes while Orders is down, then moves their OrderCompleted
    /// from Orders' queue to its error queue with MassTransit's fault headers: what a consumer failing every retry leaves.
    /// </summary>
    /// <summary>
    /// Orders' consumer of OrderCompleted fails every attempt (a <c>fail</c> rule, as a developer sets one in the failure
    /// lab): each order's saga Completes, its completion lands in <c>order-completed_error</c> after the retries, and the
    /// order stays Pending until an operator retries it.
    /// </summary>
    async Task<Guid[]> CompletionsInErrorQueueAsync(string customer, string merchant, int count)
    {
        var faults = new FaultLab(system);
        // One delivery and the bus's six retries of each completion (BusExtensions), all failed.
        var rule = await faults.AddAsync(new { service = "orders", messageType = "OrderCompleted", action = "fail", times = count * 7 });
        var orderIds = new List<Guid>();
        try
        {
            for (var i = 0; i < count; i++)
                orderIds.Add(await _shop.SubmitOrderAsync(customer, merchant, 12.50m));
            await WaitAsync(async () => (await QueueDepthAsync($"{CompletionQueue}_error") >= count, true),
                $"{count} completions in {CompletionQueue}_error", seconds: 90);
        }
        finally
        {
            await faults.DeleteAsync(rule.Id);
        }
        // Eventually: Orders' redeliverer looks at each new failure once (ADR 0008 point 9), and a message it holds for that
        // moment is not handed to anyone else's look.
        await WaitAsync(async () => ((await faults.ErrorQueueMessagesAboutAsync(orderIds)).GetValueOrDefault($"{CompletionQueue}_error") == count, true),
            $"exactly {count} completions about these orders in {CompletionQueue}_error", seconds: 30);
        return [.. orderIds];
    }

    async Task<long> QueueDepthAsync(string queue)
    {
        using var management = TestInfrastructure.ManagementClient(system.Broker);
        var info = await management.GetFromJsonAsync<JsonElement>($"api/queues/{Uri.EscapeDataString(system.VirtualHost)}/{queue}");
        return info.TryGetProperty("messages", out var messages) ? messages.GetInt64() : 0;
    }

    async Task<JsonElement> WaitForFailureAsync(HttpClient client, Guid orderId) =>
        await WaitAsync(async () =>
        {
            var list = await client.GetFromJsonAsync<JsonElement>("/api/failures?limit=1000");
            var item = list.GetProperty("items").EnumerateArray()
                .FirstOrDefault(x => x.TryGetProperty("orderId", out var id) && id.ValueKind == JsonValueKind.String && id.GetGuid() == orderId);
            return (item.ValueKind == JsonValueKind.Object, item);
        }, $"order {orderId}'s completion listed in /api/failures");

    async Task WaitForSagaStateAsync(Guid orderId, string state) =>
        await WaitAsync(async () => ((await _shop.FindSagaAsync(orderId))?.State == state, true), $"saga {orderId} in {state}");

    async Task<T> WaitAsync<T>(Func<Task<(bool Done, T Value)>> probe, string what, int seconds = 45)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (true)
        {
            var (done, value) = await probe();
            if (done)
                return value;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{what}: not within {seconds} s\n{system.Diagnostics()}");
            await Task.Delay(250);
        }
    }
}
