using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using EventShop.Testing;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace EventShop.Dashboard.Tests;

/// <summary>
/// The operator console's actions and live view in a real browser: a failed message appears by push and is retried from the
/// page, a saga held by a delay is cancelled from its page, the saga list filters and pages, and counts move without a reload.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class OperatorConsoleTests(DashboardSystem system, ChromiumBrowser chromium, ITestOutputHelper output)
    : DashboardTest(system, chromium, output), IAsyncLifetime
{
    readonly FaultLab _faults = new(system);
    readonly List<Guid> _rules = [];

    async Task IAsyncLifetime.DisposeAsync()
    {
        foreach (var id in _rules)
            await _faults.DeleteAsync(id);
        await DisposeAsync();
    }

    async Task<Guid> AddRuleAsync(object rule)
    {
        var added = await _faults.AddAsync(rule);
        _rules.Add(added.Id);
        return added.Id;
    }

    /// <summary>Opens the page and marks the document, so a later check can tell it was never reloaded.</summary>
    async Task OpenAsync(string fragment = "")
    {
        await Page.GotoAsync(DashboardAddress + fragment);
        await Expect(Page.Locator("#status")).ToContainTextAsync("Updated");
        await Page.EvaluateAsync("() => { window.sameDocument = true; }");
    }

    async Task ExpectSameDocumentAsync() =>
        Assert.True(await Page.EvaluateAsync<bool>("() => window.sameDocument === true"), "the page was reloaded");

    [Fact]
    public async Task A_failed_completion_Should_appear_live_and_complete_the_order_when_retried_from_the_page()
    {
        var (customer, merchant) = await Shop.OpenCustomerAndMerchantAsync(100m);
        await OpenAsync();
        // More firings than one message's attempts (a delivery and six retries): the completion ends in Orders' error queue.
        var rule = await AddRuleAsync(new { service = "orders", messageType = "OrderCompleted", action = "fail", times = 100 });

        var orderId = await Shop.SubmitOrderAsync(customer, merchant, unitPrice: 12.50m);
        var row = Page.Locator($"#failures tr[data-order-id='{orderId}']");
        await Expect(row).ToHaveCountAsync(1, new() { Timeout = 45_000 });
        await Expect(row).ToContainTextAsync("OrderCompleted");
        await Expect(row).ToContainTextAsync("orders");
        await Expect(Page.Locator("#failures-badge")).Not.ToHaveTextAsync("0");
        await ExpectSameDocumentAsync();
        using var operatorClient = System.Operator();
        Assert.Equal("Pending", (await operatorClient.GetJsonAsync<OrderView>($"/api/orders/{orderId}")).Status);
        await ScreenshotAsync("failure-live");

        await _faults.DeleteAsync(rule);
        await row.Locator("[data-action='retry']").ClickAsync();
        await Expect(Page.Locator("#confirm-dialog")).ToBeVisibleAsync();
        await Page.Locator("#confirm-ok").ClickAsync();
        await Expect(Page.Locator("#failure-action-result")).ToContainTextAsync("Retried");

        var order = await Shop.WaitForOutcomeAsync(orderId, TimeSpan.FromSeconds(30));
        Assert.Equal("Completed", order.Status);
        await Expect(row).ToHaveCountAsync(0);
        await ExpectSameDocumentAsync();
        var audit = await operatorClient.GetFromJsonAsync<JsonElement>($"/api/audit?orderId={orderId}");
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), e => e.GetProperty("action").GetString() == "failure.retry");
        await ScreenshotAsync("failure-retried");
        Assert.Empty(BrowserErrors);
    }

    [Fact]
    public async Task Failed_completions_Should_be_shown_discarded_with_a_reason_and_retried_as_a_group_with_progress()
    {
        var (customer, merchant) = await Shop.OpenCustomerAndMerchantAsync(100m);
        await OpenAsync();
        var rule = await AddRuleAsync(new { service = "orders", messageType = "OrderCompleted", action = "fail", times = 100 });
        var orderIds = new List<Guid>();
        for (var i = 0; i < 3; i++)
            orderIds.Add(await Shop.SubmitOrderAsync(customer, merchant, unitPrice: 2m));
        foreach (var orderId in orderIds)
            await Expect(Page.Locator($"#failures tr[data-order-id='{orderId}']")).ToHaveCountAsync(1, new() { Timeout = 45_000 });
        await _faults.DeleteAsync(rule);

        // The message itself, with MassTransit's fault headers, on demand.
        var first = Page.Locator($"#failures tr[data-order-id='{orderIds[0]}']");
        await first.Locator("details summary").ClickAsync();
        await Expect(first.Locator("pre.message-body")).ToContainTextAsync("MT-Fault-Message");
        await Expect(first.Locator("pre.message-body")).ToContainTextAsync(orderIds[0].ToString());

        // Discard needs a reason: without one the dialog stays open.
        await first.Locator("[data-action='discard']").ClickAsync();
        await Page.Locator("#confirm-ok").ClickAsync();
        await Expect(Page.Locator("#confirm-dialog")).ToBeVisibleAsync();
        await Page.Locator("#confirm-reason").FillAsync("completed by hand in the test");
        await Page.Locator("#confirm-ok").ClickAsync();
        await Expect(Page.Locator("#failure-action-result")).ToContainTextAsync("Discarded");
        await Expect(first).ToHaveCountAsync(0);

        // The two left are one group (same service, message and error): retried together, then followed.
        var group = Page.Locator("#failure-groups tr[data-group]").Filter(new() { HasText = rule.ToString() });
        await Expect(group.Locator("td").Nth(3)).ToHaveTextAsync("2");
        await group.Locator("[data-action='retry-group']").ClickAsync();
        await Page.Locator("#confirm-ok").ClickAsync();
        await Expect(Page.Locator("#failure-action-result")).ToContainTextAsync("2 retried");
        foreach (var orderId in orderIds.Skip(1))
            Assert.Equal("Completed", (await Shop.WaitForOutcomeAsync(orderId, TimeSpan.FromSeconds(30))).Status);
        await Expect(Page.Locator("#group-progress [data-progress='retried']")).ToHaveTextAsync("2 retried");
        await Expect(Page.Locator("#group-progress [data-progress='failed-again']")).ToHaveTextAsync("0 failed again");
        await Expect(group).ToHaveCountAsync(0);
        await ScreenshotAsync("failures-group-retried");

        using var operatorClient = System.Operator();
        var audit = await operatorClient.GetFromJsonAsync<JsonElement>($"/api/audit?orderId={orderIds[0]}");
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), e => e.GetProperty("action").GetString() == "failure.discard"
            && e.GetProperty("detail").GetString()!.Contains("completed by hand in the test", StringComparison.Ordinal));
        Assert.Equal("Pending", (await operatorClient.GetJsonAsync<OrderView>($"/api/orders/{orderIds[0]}")).Status);
        Assert.Empty(BrowserErrors);
    }

    [Fact]
    public async Task A_saga_held_by_a_delay_Should_be_cancelled_from_its_page_and_a_second_cancel_refused()
    {
        var (customer, merchant) = await Shop.OpenCustomerAndMerchantAsync(100m);
        // A first order warms every service up, so the held steps below stay within their timeouts.
        Assert.Equal("Completed", (await Shop.WaitForOutcomeAsync(await Shop.SubmitOrderAsync(customer, merchant, unitPrice: 1m))).Status);
        // Each step held well below the step timeout (10 s; a cold service adds seconds): the saga stays in flight for some 15 s,
        // long enough to be cancelled by hand. CreditMerchant names no customer: the rule fires once, on this order (tests here run
        // one at a time).
        await AddRuleAsync(new { service = "accounts", messageType = "DebitCustomer", action = "delay", delayMs = 5000, customerId = customer });
        await AddRuleAsync(new { service = "accounts", messageType = "CreditMerchant", action = "delay", delayMs = 5000, times = 1 });
        await AddRuleAsync(new { service = "points", messageType = "AccruePoints", action = "delay", delayMs = 5000, customerId = customer });
        var orderId = await Shop.SubmitOrderAsync(customer, merchant, unitPrice: 20m);

        await OpenAsync($"#order/{orderId}");
        var stateBadge = Page.Locator("#detail-summary [data-term='State'] .state");
        await Expect(stateBadge).ToHaveTextAsync(new Regex("^(Debiting|Crediting|Accruing)$"));
        await Expect(Page.Locator("#remaining li").First).ToBeVisibleAsync();
        await Page.Locator("#action-cancel").ClickAsync();
        await Expect(Page.Locator("#confirm-dialog")).ToContainTextAsync($"Order {orderId}");
        await Page.Locator("#confirm-ok").ClickAsync();
        await Expect(Page.Locator("#action-result")).Not.ToBeEmptyAsync();
        var answer = await Page.Locator("#action-result").TextContentAsync();
        Assert.True(answer!.StartsWith("Accepted", StringComparison.Ordinal),
            $"cancel was not accepted: {answer}\n{JsonSerializer.Serialize(await Shop.SagaAsync(orderId))}");

        // The page follows the saga by push: compensations, then Cancelled by the operator.
        await Expect(stateBadge).ToHaveTextAsync("Cancelled");
        await Expect(Page.Locator("#detail-summary [data-term='Failure code'] dd")).ToHaveTextAsync("CancelledByOperator");
        await Expect(Page.Locator("#timeline tr[data-message-type='CancelSaga']")).ToHaveCountAsync(1);
        await Expect(Page.Locator("#timeline tr.compensation").First).ToBeVisibleAsync();
        await Expect(Page.Locator("#audit")).ToContainTextAsync("saga.cancel");
        await Expect(Page.Locator("#remaining")).ToContainTextAsync("the saga has ended");
        await ExpectSameDocumentAsync();
        Assert.Equal("Cancelled", (await Shop.WaitForOutcomeAsync(orderId, TimeSpan.FromSeconds(30))).Status);

        // Once ended, the saga host refuses: the page shows its problem document.
        await Page.Locator("#action-cancel").ClickAsync();
        await Page.Locator("#confirm-ok").ClickAsync();
        await Expect(Page.Locator("#action-result")).ToContainTextAsync("409 Saga has ended");
        await Expect(Page.Locator("#action-result")).ToContainTextAsync("can no longer be cancelled");
        await ScreenshotAsync("saga-cancelled");
        Assert.Empty(BrowserErrors);
    }

    [Fact]
    public async Task The_saga_list_Should_filter_search_and_page()
    {
        var (customer, merchant) = await Shop.OpenCustomerAndMerchantAsync(100m);
        var poor = ShopClient.NewId("poor");
        await Shop.CreateAccountAsync(poor, "customer", 1m);
        var completed = new List<Guid>();
        for (var i = 0; i < 11; i++)
            completed.Add(await Shop.SubmitOrderAsync(customer, merchant, unitPrice: 1m));
        var unpaid = await Shop.SubmitOrderAsync(poor, merchant, unitPrice: 5m);
        foreach (var orderId in completed)
            Assert.Equal("Completed", (await Shop.WaitForOutcomeAsync(orderId)).Status);
        Assert.Equal("Cancelled", (await Shop.WaitForOutcomeAsync(unpaid)).Status);

        await OpenAsync();
        var rows = Page.Locator("#search-results tbody tr");
        var pageInfo = Page.Locator("#page-info");

        // A customer's sagas, ten to a page.
        await Page.Locator("#page-size").SelectOptionAsync("10");
        await Page.Locator("#filter-customer").FillAsync(customer);
        await Page.Locator("#search-form button[type='submit']").ClickAsync();
        await Expect(pageInfo).ToHaveTextAsync("Page 1 of 2 · 11 sagas");
        await Expect(rows).ToHaveCountAsync(10);
        await Page.Locator("#page-next").ClickAsync();
        await Expect(pageInfo).ToHaveTextAsync("Page 2 of 2 · 11 sagas");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(Page.Locator("#page-next")).ToBeDisabledAsync();
        var seen = new HashSet<string>(await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.orderId)"));
        await Page.Locator("#page-previous").ClickAsync();
        await Expect(rows).ToHaveCountAsync(10);
        seen.UnionWith(await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.orderId)"));
        Assert.Equal(completed.Select(x => x.ToString()).ToHashSet(), seen);

        // State and failure code, with another customer.
        await Page.Locator("#filter-customer").FillAsync(poor);
        await Page.Locator("#filter-state").SelectOptionAsync("Cancelled");
        await Page.Locator("#filter-failure-code").FillAsync("InsufficientFunds");
        await Page.Locator("#search-form button[type='submit']").ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToHaveAttributeAsync("data-order-id", unpaid.ToString());
        await Page.Locator("#filter-failure-code").FillAsync("CancelledByOperator");
        await Page.Locator("#search-form button[type='submit']").ClickAsync();
        await Expect(Page.Locator("#search-results")).ToHaveTextAsync("No saga matches.");

        // Created in the future: nothing; by order id (whole, or the start of it without dashes): that order.
        await Page.Locator("#search-reset").ClickAsync();
        var later = DateTime.Now.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
        await Page.Locator("#filter-from").FillAsync(later);
        await Page.Locator("#search-form button[type='submit']").ClickAsync();
        await Expect(Page.Locator("#search-results")).ToHaveTextAsync("No saga matches.");
        await Page.Locator("#filter-from").FillAsync("");
        await Page.Locator("#filter-order").FillAsync(unpaid.ToString("N")[..20]);
        await Page.Locator("#search-form button[type='submit']").ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToHaveAttributeAsync("data-order-id", unpaid.ToString());
        await ScreenshotAsync("saga-search");

        // An invalid filter: the saga host's validation problem, shown as it is.
        await Page.Locator("#filter-order").FillAsync("not-an-id");
        await Page.Locator("#search-form button[type='submit']").ClickAsync();
        await Expect(Page.Locator("#search-error")).ToContainTextAsync("400");
        await Expect(Page.Locator("#search-error")).ToContainTextAsync("orderId");
        Assert.Empty(BrowserErrors);
    }

    [Fact]
    public async Task Counts_and_the_chart_Should_move_by_push_and_the_page_should_not_poll()
    {
        var (customer, merchant) = await Shop.OpenCustomerAndMerchantAsync(100m);
        await OpenAsync();
        var requests = new List<string>();
        Page.Request += (_, request) => requests.Add(request.Url);

        var orderId = await Shop.SubmitOrderAsync(customer, merchant, unitPrice: 3m);
        Assert.Equal("Completed", (await Shop.WaitForOutcomeAsync(orderId)).Status);
        using var operatorClient = System.Operator();
        var counts = (await operatorClient.GetFromJsonAsync<JsonElement>("/api/sagas?limit=1")).GetProperty("counts");
        await Expect(Page.Locator("#counts [data-state='Completed'] .count-value")).ToHaveTextAsync(counts.GetProperty("Completed").GetInt32().ToString(CultureInfo.InvariantCulture));
        await Expect(Page.Locator("#counts [data-state='InFlight'] .count-value")).ToHaveTextAsync("0");
        await Expect(Page.Locator("#search-results tbody tr").First).ToHaveAttributeAsync("data-order-id", orderId.ToString());
        await Expect(Page.Locator("#chart-legend [data-series='completedPerMinute'] .legend-value")).Not.ToHaveTextAsync("0");
        await Expect(Page.Locator("#chart-plot polyline[data-series='inFlight']")).ToHaveCountAsync(1);
        await ExpectSameDocumentAsync();
        await ScreenshotAsync("live-counts");

        // Nothing changes now: the page sends nothing (the stream it holds open is not a new request).
        requests.Clear();
        await Page.WaitForTimeoutAsync(6000);
        Assert.Empty(requests);
        Assert.Empty(BrowserErrors);
    }
}
