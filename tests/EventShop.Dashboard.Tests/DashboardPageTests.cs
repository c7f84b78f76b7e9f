using EventShop.Testing;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace EventShop.Dashboard.Tests;

/// <summary>The operators' dashboard in a real browser, through the gateway, on a running EventShop.</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardPageTests(EventShopSystem system, ChromiumBrowser chromium, ITestOutputHelper output) : IAsyncLifetime
{
    sealed record SagaList(SagaView[] Items, Dictionary<string, int> Counts, int Stuck);

    readonly ShopClient _shop = new(system);
    readonly List<string> _browserErrors = [];
    IBrowserContext _context = null!;
    IPage _page = null!;

    static string ScreenshotDirectory => Path.Combine(AppContext.BaseDirectory, "screenshots");

    Uri DashboardAddress => new(system.GatewayAddress, "/dashboard/");

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(20_000);
        _context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1360, Height = 900 } });
        _page = await _context.NewPageAsync();
        _page.Console += (_, message) =>
        {
            // Rejected requests (a 403 for a customer token) are logged by the browser itself; the page handles those and the tests check
            // what it shows. Anything else (a script error, a CSP violation) is a defect.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
                _browserErrors.Add(message.Text);
        };
        _page.PageError += (_, error) => _browserErrors.Add(error);
    }

    public async Task DisposeAsync() => await _context.DisposeAsync();

    [Fact]
    public async Task When_orders_complete_and_fail_Should_show_counts_failures_and_each_history()
    {
        var customer = ShopClient.NewId("cust");
        var poorCustomer = ShopClient.NewId("poor");
        var merchant = ShopClient.NewId("shop");
        var frozenMerchant = ShopClient.NewId("frozen");
        await _shop.CreateAccountAsync(customer, "customer", 100m);
        await _shop.CreateAccountAsync(poorCustomer, "customer", 10m);
        await _shop.CreateAccountAsync(merchant, "merchant", 0m);
        await _shop.CreateAccountAsync(frozenMerchant, "merchant", 0m);
        await _shop.OperatorPostAsync($"/api/accounts/{frozenMerchant}/freeze");

        var completed = await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 12.50m, quantity: 2));
        var unpaid = await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(poorCustomer, merchant, unitPrice: 10.01m));
        var refunded = await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, frozenMerchant, unitPrice: 7.25m));
        Assert.Equal("Completed", completed.Status);
        Assert.Equal("Cancelled", unpaid.Status);
        Assert.Equal("Cancelled", refunded.Status);

        await _page.GotoAsync(DashboardAddress.ToString());

        // Counts: exactly what the API reports (other tests of this collection may have placed orders too).
        using var operatorClient = system.Operator();
        var sagas = await operatorClient.GetJsonAsync<SagaList>("/api/sagas?limit=1");
        Assert.True(sagas.Counts.GetValueOrDefault("Completed") >= 1 && sagas.Counts.GetValueOrDefault("Cancelled") >= 2);
        await Expect(_page.Locator("#counts [data-state='Completed'] .count-value")).ToHaveTextAsync(sagas.Counts["Completed"].ToString());
        await Expect(_page.Locator("#counts [data-state='Cancelled'] .count-value")).ToHaveTextAsync(sagas.Counts["Cancelled"].ToString());
        await Expect(_page.Locator("#counts [data-state='Stuck'] .count-value")).ToHaveTextAsync(sagas.Stuck.ToString());
        await Expect(_page.Locator("#status")).ToContainTextAsync("Updated");

        // Failed: both cancelled orders with their reasons; the completed one is not there.
        var unpaidRow = _page.Locator($"#failed tr[data-order-id='{unpaid.OrderId}']");
        await Expect(unpaidRow).ToContainTextAsync(unpaid.FailureReason!);
        Assert.Contains("InsufficientFunds", unpaid.FailureReason, StringComparison.Ordinal);
        await Expect(unpaidRow).ToContainTextAsync("10.01");
        await Expect(_page.Locator($"#failed tr[data-order-id='{refunded.OrderId}']")).ToContainTextAsync(refunded.FailureReason!);
        await Expect(_page.Locator($"#failed tr[data-order-id='{completed.OrderId}']")).ToHaveCountAsync(0);
        await Expect(_page.Locator("#inflight")).ToContainTextAsync("No order is being placed right now.");
        await Expect(_page.Locator("#stuck")).ToContainTextAsync("Nothing is stuck.");
        await ScreenshotAsync("overview");

        // History of the order the customer could not pay: submitted, then cancelled with the reason.
        await unpaidRow.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(_page.Locator("#detail")).ToBeVisibleAsync();
        await Expect(_page.Locator("#overview")).ToBeHiddenAsync();
        await Expect(_page.Locator("#detail-title")).ToHaveTextAsync($"Order {unpaid.OrderId}");
        await Expect(_page.Locator("#detail-summary")).ToContainTextAsync(unpaid.FailureReason!);
        await ExpectHistoryAsync(unpaid.OrderId);
        await ScreenshotAsync("history-cancelled");

        // Back, then the compensated order: the refund shows as a compensation step.
        await _page.GetByRole(AriaRole.Link, new() { Name = "Back to overview" }).ClickAsync();
        await Expect(_page.Locator("#overview")).ToBeVisibleAsync();
        await _page.Locator($"#failed a[data-order-id='{refunded.OrderId}']").ClickAsync();
        await ExpectHistoryAsync(refunded.OrderId);
        await Expect(_page.Locator("#history tr.compensation")).ToContainTextAsync("Refunding");
        await Expect(_page.Locator("#history tr.compensation")).ToContainTextAsync("compensation");
        await ScreenshotAsync("history-compensated");

        Assert.Empty(_browserErrors);
    }

    [Fact]
    public async Task When_the_token_lacks_the_operator_role_Should_ask_for_one_and_use_the_pasted_token()
    {
        var customerToken = system.Token("someone", "customer");
        await _context.AddInitScriptAsync($"sessionStorage.setItem('eventshop.dashboard.token', '{customerToken}')");

        await _page.GotoAsync(DashboardAddress.ToString());

        await Expect(_page.Locator("#sign-in")).ToBeVisibleAsync();
        await Expect(_page.Locator("#token-error")).ToContainTextAsync("lacks the operator role");
        await _page.GetByLabel("Bearer token").FillAsync("Bearer " + system.Token("pasting-operator", "operator"));
        await _page.GetByRole(AriaRole.Button, new() { Name = "Use token" }).ClickAsync();

        await Expect(_page.Locator("#sign-in")).ToBeHiddenAsync();
        await Expect(_page.Locator("#status")).ToContainTextAsync("Updated");
        await Expect(_page.Locator("#status")).Not.ToContainTextAsync("development token");
        await Expect(_page.Locator("#counts [data-state='InFlight']")).ToBeVisibleAsync();
        Assert.Empty(_browserErrors);
    }

    async Task ExpectHistoryAsync(Guid orderId)
    {
        var saga = await _shop.SagaAsync(orderId);
        Assert.Equal("Cancelled", saga.State);
        await Expect(_page.Locator("#detail-title")).ToHaveTextAsync($"Order {orderId}");
        var rows = _page.Locator("#history tbody tr");
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

    async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, $"dashboard-{name}.png");
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
    }
}
