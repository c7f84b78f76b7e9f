using EventShop.Testing;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace EventShop.Dashboard.Tests;

/// <summary>The operators' dashboard in a real browser, through the gateway, on a running EventShop.</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardPageTests(DashboardSystem system, ChromiumBrowser chromium, ITestOutputHelper output)
    : DashboardTest(system, chromium, output)
{
    sealed record SagaList(SagaView[] Items, Dictionary<string, int> Counts, int Stuck);

    [Fact]
    public async Task When_orders_complete_and_fail_Should_show_counts_failures_and_each_history()
    {
        var customer = ShopClient.NewId("cust");
        var poorCustomer = ShopClient.NewId("poor");
        var merchant = ShopClient.NewId("shop");
        var frozenMerchant = ShopClient.NewId("frozen");
        await Shop.CreateAccountAsync(customer, "customer", 100m);
        await Shop.CreateAccountAsync(poorCustomer, "customer", 10m);
        await Shop.CreateAccountAsync(merchant, "merchant", 0m);
        await Shop.CreateAccountAsync(frozenMerchant, "merchant", 0m);
        await Shop.OperatorPostAsync($"/api/accounts/{frozenMerchant}/freeze");

        var completed = await Shop.WaitForOutcomeAsync(await Shop.SubmitOrderAsync(customer, merchant, unitPrice: 12.50m, quantity: 2));
        var unpaid = await Shop.WaitForOutcomeAsync(await Shop.SubmitOrderAsync(poorCustomer, merchant, unitPrice: 10.01m));
        var refunded = await Shop.WaitForOutcomeAsync(await Shop.SubmitOrderAsync(customer, frozenMerchant, unitPrice: 7.25m));
        Assert.True(completed.Status == "Completed", $"the order to complete ended {completed.Status}: {completed.FailureReason}\n{System.Diagnostics()}");
        Assert.Equal("Cancelled", unpaid.Status);
        Assert.Equal("Cancelled", refunded.Status);

        await Page.GotoAsync(DashboardAddress);

        // Counts: exactly what the API reports (other tests of this collection may have placed orders too).
        using var operatorClient = System.Operator();
        var sagas = await operatorClient.GetJsonAsync<SagaList>("/api/sagas?limit=1");
        Assert.True(sagas.Counts.GetValueOrDefault("Completed") >= 1 && sagas.Counts.GetValueOrDefault("Cancelled") >= 2);
        await Expect(Page.Locator("#counts [data-state='Completed'] .count-value")).ToHaveTextAsync(sagas.Counts["Completed"].ToString());
        await Expect(Page.Locator("#counts [data-state='Cancelled'] .count-value")).ToHaveTextAsync(sagas.Counts["Cancelled"].ToString());
        await Expect(Page.Locator("#counts [data-state='Stuck'] .count-value")).ToHaveTextAsync(sagas.Stuck.ToString());
        await Expect(Page.Locator("#status")).ToContainTextAsync("Updated");

        // Failed: both cancelled orders with their reasons; the completed one is not there.
        var unpaidRow = Page.Locator($"#failed tr[data-order-id='{unpaid.OrderId}']");
        await Expect(unpaidRow).ToContainTextAsync(unpaid.FailureReason!);
        Assert.Contains("InsufficientFunds", unpaid.FailureReason, StringComparison.Ordinal);
        await Expect(unpaidRow).ToContainTextAsync("10.01");
        await Expect(Page.Locator($"#failed tr[data-order-id='{refunded.OrderId}']")).ToContainTextAsync(refunded.FailureReason!);
        await Expect(Page.Locator($"#failed tr[data-order-id='{completed.OrderId}']")).ToHaveCountAsync(0);
        await Expect(Page.Locator("#inflight")).ToContainTextAsync("No order is being placed right now.");
        await Expect(Page.Locator("#stuck")).ToContainTextAsync("Nothing is stuck.");
        await ScreenshotAsync("overview");

        // History of the order the customer could not pay: submitted, then cancelled with the reason.
        await unpaidRow.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(Page.Locator("#detail")).ToBeVisibleAsync();
        await Expect(Page.Locator("#overview")).ToBeHiddenAsync();
        await Expect(Page.Locator("#detail-title")).ToHaveTextAsync($"Order {unpaid.OrderId}");
        await Expect(Page.Locator("#detail-summary")).ToContainTextAsync(unpaid.FailureReason!);
        await ExpectHistoryAsync(unpaid.OrderId);
        await ScreenshotAsync("history-cancelled");

        // Back, then the compensated order: the refund shows as a compensation step.
        await Page.GetByRole(AriaRole.Link, new() { Name = "Back to overview" }).ClickAsync();
        await Expect(Page.Locator("#overview")).ToBeVisibleAsync();
        await Page.Locator($"#failed a[data-order-id='{refunded.OrderId}']").ClickAsync();
        await ExpectHistoryAsync(refunded.OrderId);
        await Expect(Page.Locator("#history tr.compensation")).ToContainTextAsync("Refunding");
        await Expect(Page.Locator("#history tr.compensation")).ToContainTextAsync("compensation");
        await ScreenshotAsync("history-compensated");

        Assert.Empty(BrowserErrors);
    }

    [Fact]
    public async Task When_the_token_lacks_the_operator_role_Should_ask_for_one_and_use_the_pasted_token()
    {
        var customerToken = System.Token("someone", "customer");
        await Context.AddInitScriptAsync($"sessionStorage.setItem('eventshop.dashboard.token', '{customerToken}')");

        await Page.GotoAsync(DashboardAddress);

        await Expect(Page.Locator("#sign-in")).ToBeVisibleAsync();
        await Expect(Page.Locator("#token-error")).ToContainTextAsync("lacks the operator role");
        await Page.GetByLabel("Bearer token").FillAsync("Bearer " + System.Token("pasting-operator", "operator"));
        await Page.GetByRole(AriaRole.Button, new() { Name = "Use token" }).ClickAsync();

        await Expect(Page.Locator("#sign-in")).ToBeHiddenAsync();
        await Expect(Page.Locator("#status")).ToContainTextAsync("Updated");
        await Expect(Page.Locator("#status")).Not.ToContainTextAsync("development token");
        await Expect(Page.Locator("#counts [data-state='InFlight']")).ToBeVisibleAsync();
        Assert.Empty(BrowserErrors);
    }

    async Task ExpectHistoryAsync(Guid orderId)
    {
        var saga = await Shop.SagaAsync(orderId);
        Assert.Equal("Cancelled", saga.State);
        await Expect(Page.Locator("#detail-title")).ToHaveTextAsync($"Order {orderId}");
        var rows = Page.Locator("#history tbody tr");
        await Expect(rows).ToHaveCountAsync(saga.History!.Length);
        for (var i = 0; i < saga.History.Length; i++)
        {
            var transition = saga.History[i];
            var cells = rows.Nth(i).Locator("td");
            await Expect(cells.Nth(1)).ToHaveTextAsync(transition.Event);
            await Expect(cells.Nth(2)).ToHaveTextAsync(transition.FromState);
            await Expect(cells.Nth(3)).ToContainTextAsync(transition.ToState);
            await Expect(cells.Nth(4)).ToHaveTextAsync(transition.Detail ?? "");
        }
    }
}
