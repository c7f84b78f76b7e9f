using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// Fault injection through the gateway (<c>/api/faults</c>, ADR 0014) on the shared system: each action changes an order's
/// outcome as documented, and afterwards money and points add up and nothing is left behind. Tests of this collection run
/// one at a time, and each deletes its rules, so a rule on a message that does not name the customer touches only its orders.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class FaultInjectionTests(EventShopSystem system) : IAsyncLifetime
{
    readonly ShopClient _shop = new(system);
    readonly FaultLab _faults = new(system);
    readonly List<Guid> _rules = [];

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Deletes the test's rules and empties the error queues its orders fill on purpose, pass or fail: the system is shared.</summary>
    public async Task DisposeAsync()
    {
        foreach (var id in _rules)
            await _faults.DeleteAsync(id);
        foreach (var queue in (string[])["credit-merchant_error", "debit-customer_error"])
            await _faults.PurgeAsync(queue);
    }

    async Task<FaultRuleView> AddRuleAsync(object rule)
    {
        var added = await _faults.AddAsync(rule);
        _rules.Add(added.Id);
        return added;
    }

    /// <summary>The in-process retries of one message (BusExtensions: 6), each counted as a firing; then the error queue, no more.</summary>
    static void AssertFailedEveryAttempt(FaultRuleView rule)
    {
        Assert.InRange(rule.Fired, 6, 7);
        Assert.True(rule.Active);
    }

    [Fact]
    public async Task When_CreditMerchant_fails_past_its_retries_Should_refund_the_customer()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(100m, "fail");
        // More firings than the in-process retries make attempts (BusExtensions): every attempt fails, the message goes to the error queue.
        var rule = await AddRuleAsync(new { service = "accounts", messageType = "CreditMerchant", action = "fail", times = 20 });

        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 30m);
        var order = await _shop.WaitForOutcomeAsync(orderId);

        Assert.Equal("Cancelled", order.Status);
        Assert.Equal(100m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(0m, (await _shop.AccountAsync(merchant)).Balance);
        Assert.Equal(0, (await _shop.PointsAsync(customer)).Balance);
        Assert.Equal(["Debit", "Refund"], (await _shop.LedgerAsync(customer)).Where(e => e.Type != "Opening").Select(e => e.Type));
        AssertFailedEveryAttempt(await _faults.GetAsync(rule.Id));

        // The failed command is where a failure belongs, once: the operator's to look at, and nothing else is parked.
        await _faults.WaitForMessageAsync("credit-merchant_error", orderId);
        Assert.Equal(1, (await _faults.ErrorQueueMessagesAboutAsync([orderId])).GetValueOrDefault("credit-merchant_error"));
        await system.AssertSettledAsync(("credit-merchant_error", 1));
    }

    [Fact]
    public async Task When_the_reply_to_DebitCustomer_is_lost_Should_cancel_after_the_step_timeout_and_undo_the_debit()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(100m, "lost");
        var rule = await AddRuleAsync(new { service = "accounts", messageType = "DebitCustomer", action = "drop-reply", customerId = customer });

        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 25m);
        var order = await _shop.WaitForOutcomeAsync(orderId, TimeSpan.FromSeconds(90));

        Assert.Equal("Cancelled", order.Status);
        Assert.Equal("Customer debit timed out", order.FailureReason);
        Assert.Equal("StepTimedOut", order.FailureCode);
        // The debit committed (its reply was lost), and the compensation undid it.
        Assert.Equal(["Debit", "Refund"], (await _shop.LedgerAsync(customer)).Where(e => e.Type != "Opening").Select(e => e.Type));
        Assert.Equal(100m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(0m, (await _shop.AccountAsync(merchant)).Balance);
        Assert.Equal(1, (await _faults.GetAsync(rule.Id)).Fired);
        await system.AssertSettledAsync();
    }

    [Fact]
    public async Task When_a_compensation_fails_past_its_budget_Should_end_CompensationFailed_show_it_and_cancel_after_the_operator_retries()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(100m, "stranded");
        await _shop.OperatorPostAsync($"/api/accounts/{merchant}/freeze");
        // Every reply to the refund is lost: the refund itself commits once, the saga never hears of it.
        var rule = await AddRuleAsync(new { service = "accounts", messageType = "RefundCustomer", action = "drop-reply", customerId = customer, times = 100 });

        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 25m);
        await WaitForSagaStateAsync(orderId, "CompensationFailed", TimeSpan.FromSeconds(120));

        // Ended in a state that says so, with the reason; the order waits for an operator, shown as needing one.
        Assert.Equal("Pending", (await _shop.OrderAsync(orderId)).Status);
        Assert.Equal(EventShopSystem.MaxCompensationAttempts, (await _faults.GetAsync(rule.Id)).Fired);
        Assert.Equal(["Opening", "Debit", "Refund"], (await _shop.LedgerAsync(customer)).Select(e => e.Type));
        using (var operatorClient = system.Operator())
        {
            var saga = await operatorClient.GetJsonAsync<JsonElement>($"/api/sagas/{orderId}");
            Assert.Contains($"got no reply after {EventShopSystem.MaxCompensationAttempts} attempts", saga.GetProperty("compensationFailure").GetString(), StringComparison.Ordinal);
            var stuck = await operatorClient.GetJsonAsync<JsonElement>($"/api/sagas?stuck=true&orderId={orderId}");
            Assert.Equal("CompensationFailed", stuck.GetProperty("stuckItems")[0].GetProperty("state").GetString());
        }
        var verdict = await Invariants.FreshVerdictAsync(system);
        var check = Assert.Single(verdict.Checks, c => c.Name == "sagas.no-compensation-failed");
        Assert.False(check.Ok);
        Assert.Contains(orderId.ToString(), check.Detail, StringComparison.Ordinal);

        // The operator removes the cause and resumes the compensation: the refund is found done, its reply arrives.
        await _faults.DeleteAsync(rule.Id);
        _rules.Remove(rule.Id);
        await _shop.OperatorPostAsync($"/api/sagas/{orderId}/retry-step");
        var order = await _shop.WaitForOutcomeAsync(orderId, TimeSpan.FromSeconds(60));

        Assert.Equal("Cancelled", order.Status);
        Assert.Equal("MerchantFrozen", order.FailureCode);
        Assert.Equal(100m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(["Opening", "Debit", "Refund"], (await _shop.LedgerAsync(customer)).Select(e => e.Type));
        await system.AssertSettledAsync();
    }

    async Task WaitForSagaStateAsync(Guid orderId, string state, TimeSpan timeout)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var saga = await _shop.FindSagaAsync(orderId);
            if (saga?.State == state)
                return;
            Assert.True(waited.Elapsed < timeout, $"saga {orderId} not {state} after {timeout}: {saga?.State ?? "none"}");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    [Fact]
    public async Task When_CreditMerchant_is_handled_twice_Should_credit_the_merchant_once()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(100m, "dup");
        var rule = await AddRuleAsync(new { service = "accounts", messageType = "CreditMerchant", action = "duplicate" });

        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 12.40m);
        var order = await _shop.WaitForOutcomeAsync(orderId);

        Assert.Equal("Completed", order.Status);
        Assert.Equal(1, (await _faults.GetAsync(rule.Id)).Fired);
        Assert.Equal(["Credit"], (await _shop.LedgerAsync(merchant)).Where(e => e.Type != "Opening").Select(e => e.Type));
        Assert.Equal(12.40m, (await _shop.AccountAsync(merchant)).Balance);
        Assert.Equal(87.60m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(12, (await _shop.PointsAsync(customer)).Balance);
        await system.AssertSettledAsync();
    }

    [Fact]
    public async Task When_DebitCustomer_is_delayed_Should_complete_the_order_that_much_later()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(100m, "slow");
        await AddRuleAsync(new { service = "accounts", messageType = "DebitCustomer", action = "delay", delayMs = 3000, customerId = customer });

        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 10m);
        var order = await _shop.WaitForOutcomeAsync(orderId);

        Assert.Equal("Completed", order.Status);
        // From the saga sending the debit to its reply: the delay, at least.
        var history = (await _shop.SagaAsync(orderId)).History!;
        var debiting = history.First(h => h.ToState == "Debiting").At;
        var crediting = history.First(h => h.ToState == "Crediting").At;
        Assert.True(crediting - debiting >= TimeSpan.FromSeconds(3), $"the debit took {(crediting - debiting).TotalMilliseconds} ms");
        Assert.Equal(90m, (await _shop.AccountAsync(customer)).Balance);
        await system.AssertSettledAsync();
    }

    [Fact]
    public async Task When_a_rule_names_a_customer_Should_fail_only_that_customers_orders()
    {
        var (victim, merchant) = await _shop.OpenCustomerAndMerchantAsync(100m, "victim");
        var bystander = ShopClient.NewId("bystander");
        await _shop.CreateAccountAsync(bystander, "customer", 100m);
        var rule = await AddRuleAsync(new { service = "accounts", messageType = "DebitCustomer", action = "fail", customerId = victim, times = 20 });

        var victimOrder = await _shop.SubmitOrderAsync(victim, merchant, unitPrice: 20m);
        var bystanderOrder = await _shop.SubmitOrderAsync(bystander, merchant, unitPrice: 20m);

        Assert.Equal("Completed", (await _shop.WaitForOutcomeAsync(bystanderOrder)).Status);
        Assert.Equal("Cancelled", (await _shop.WaitForOutcomeAsync(victimOrder)).Status);
        // Every attempt at the victim's debit failed; the bystander's never met the rule.
        AssertFailedEveryAttempt(await _faults.GetAsync(rule.Id));
        Assert.Equal(100m, (await _shop.AccountAsync(victim)).Balance);
        Assert.Equal(80m, (await _shop.AccountAsync(bystander)).Balance);
        Assert.Equal(20m, (await _shop.AccountAsync(merchant)).Balance);
        Assert.Equal(20, (await _shop.PointsAsync(bystander)).Balance);

        await _faults.WaitForMessageAsync("debit-customer_error", victimOrder);
        Assert.Equal(1, (await _faults.ErrorQueueMessagesAboutAsync([victimOrder])).GetValueOrDefault("debit-customer_error"));
        await system.AssertSettledAsync(("debit-customer_error", 1));
    }

    [Fact]
    public async Task When_a_rule_may_fire_three_times_Should_fail_three_attempts_and_let_the_retry_through()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(100m, "times");
        var rule = await AddRuleAsync(new { service = "points", messageType = "AccruePoints", action = "fail", customerId = customer, times = 3 });

        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 15m);

        Assert.Equal("Completed", (await _shop.WaitForOutcomeAsync(orderId)).Status);
        var fired = await _faults.GetAsync(rule.Id);
        Assert.Equal(3, fired.Fired);
        Assert.False(fired.Active);
        Assert.Equal(15, (await _shop.PointsAsync(customer)).Balance);
        Assert.Equal(85m, (await _shop.AccountAsync(customer)).Balance);
        await system.AssertSettledAsync();
    }

    [Fact]
    public async Task Rules_are_added_listed_read_and_deleted_through_the_gateway()
    {
        using var client = system.Operator();
        using var created = await client.PostAsJsonAsync("/api/faults",
            new { service = "sagas", messageType = "CustomerDebited", action = "crash", crashPoint = "after-commit", customerId = "nobody-at-all" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var rule = (await created.Content.ReadFromJsonAsync<FaultRuleView>())!;
        _rules.Add(rule.Id);
        Assert.Equal($"/api/faults/{rule.Id}", created.Headers.Location?.OriginalString);
        Assert.Equal(("sagas", "CustomerDebited", "crash", "after-commit", 1, 0, true),
            (rule.Service, rule.MessageType, rule.Action, rule.CrashPoint, rule.Times, rule.Fired, rule.Active));

        var list = await _faults.ListAsync();
        Assert.Empty(list.Missing);
        Assert.Contains(list.Items, r => r.Id == rule.Id && r.Service == "sagas");
        Assert.Equal(rule.Id, (await _faults.GetAsync(rule.Id)).Id);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/faults/{rule.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/faults/{rule.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/faults/{rule.Id}")).StatusCode);
        Assert.DoesNotContain((await _faults.ListAsync()).Items, r => r.Id == rule.Id);

        // Both changes are operator actions, in the audit trail with who made them.
        var audit = (await client.GetFromJsonAsync<JsonElement>("/api/audit?limit=1000")).GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(audit, e => e.GetProperty("action").GetString() == "fault.add" && e.GetProperty("target").GetString() == "faults/sagas"
            && e.GetProperty("detail").GetString()!.Contains("nobody-at-all", StringComparison.Ordinal));
        Assert.Contains(audit, e => e.GetProperty("action").GetString() == "fault.delete" && e.GetProperty("target").GetString() == $"fault/{rule.Id}");
        Assert.All(audit.Where(e => e.GetProperty("action").GetString()!.StartsWith("fault.", StringComparison.Ordinal)),
            e => Assert.False(string.IsNullOrEmpty(e.GetProperty("subject").GetString())));
    }

    [Theory]
    [InlineData("""{"service":"billing","messageType":"DebitCustomer","action":"fail"}""", "service")]
    [InlineData("""{"service":"accounts","messageType":"OrderSubmitted","action":"fail"}""", "messageType")]
    [InlineData("""{"service":"accounts","messageType":"DebitCustomer","action":"explode"}""", "action")]
    [InlineData("""{"service":"accounts","messageType":"DebitCustomer","action":"crash"}""", "crashPoint")]
    [InlineData("""{"service":"accounts","messageType":"DebitCustomer","action":"crash","crashPoint":"mid-air"}""", "crashPoint")]
    [InlineData("""{"service":"accounts","messageType":"DebitCustomer","action":"delay"}""", "delayMs")]
    [InlineData("""{"service":"accounts","messageType":"DebitCustomer","action":"fail","delayMs":5}""", "delayMs")]
    [InlineData("""{"service":"accounts","messageType":"DebitCustomer","action":"fail","times":0}""", "times")]
    [InlineData("""{"service":"accounts","messageType":"CreditMerchant","action":"fail","customerId":"alice"}""", "customerId")]
    public async Task An_invalid_rule_Should_be_refused_with_a_problem_naming_the_field(string body, string field)
    {
        using var client = system.Operator();
        using var response = await client.PostAsync("/api/faults", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"no error for '{field}' in {problem}");
    }

    [Fact]
    public async Task A_customer_may_not_add_a_rule()
    {
        using var client = system.Customer("someone");
        using var response = await client.PostAsJsonAsync("/api/faults", new { service = "accounts", messageType = "DebitCustomer", action = "fail" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
