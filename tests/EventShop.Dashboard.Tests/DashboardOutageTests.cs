using System.Text.RegularExpressions;
using EventShop.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace EventShop.Dashboard.Tests;

/// <summary>What operators see while a service is down: the order in flight, then in compensation, then failed.</summary>
[Collection(DashboardOutageCollection.Name)]
public sealed class DashboardOutageTests(DashboardSystem system, ChromiumBrowser chromium, ITestOutputHelper output)
    : DashboardTest(system, chromium, output)
{
    [Fact]
    public async Task When_the_accounts_service_is_down_Should_list_the_order_in_flight_until_it_ends()
    {
        var (customer, merchant) = await Shop.OpenCustomerAndMerchantAsync(50m);

        await System.KillAsync("accounts");
        Guid orderId;
        try
        {
            // No debit reply: the saga waits in Debiting, times out, then waits in Refunding (a compensation) for the service to return.
            orderId = await Shop.SubmitOrderAsync(customer, merchant, unitPrice: 5m);
            await Page.GotoAsync(DashboardAddress);
            var row = Page.Locator($"#inflight tr[data-order-id='{orderId}']");
            await Expect(row).ToContainTextAsync(customer);
            await Expect(row.Locator(".state")).ToHaveTextAsync(new Regex("^(Debiting|Refunding)$"));
            await Expect(Page.Locator("#counts [data-state='InFlight'] .count-value")).ToHaveTextAsync("1");
            await Expect(row.Locator(".state-compensating")).ToHaveTextAsync("Refunding");
            await Expect(Page.Locator("#counts [data-state='Refunding'] .count-value")).ToHaveTextAsync("1");
            await ScreenshotAsync("in-flight");
        }
        finally
        {
            await System.RestartAsync("accounts");
        }

        var order = await Shop.WaitForOutcomeAsync(orderId);
        Assert.Equal("Cancelled", order.Status);
        // The page refreshes by itself: the order leaves the in-flight list and shows up as failed.
        await Expect(Page.Locator($"#inflight tr[data-order-id='{orderId}']")).ToHaveCountAsync(0);
        await Expect(Page.Locator($"#failed tr[data-order-id='{orderId}']")).ToContainTextAsync(order.FailureReason!);
        await Expect(Page.Locator("#counts [data-state='InFlight'] .count-value")).ToHaveTextAsync("0");
        Assert.Empty(BrowserErrors);
    }
}
