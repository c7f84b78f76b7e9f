using EventShop.Testing;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace EventShop.Dashboard.Tests;

/// <summary>A fresh browser context and page per test, on the dashboard the gateway serves; browser-side errors are collected.</summary>
public abstract class DashboardTest(EventShopSystem system, ChromiumBrowser chromium, ITestOutputHelper output) : IAsyncLifetime
{
    protected EventShopSystem System { get; } = system;
    protected ITestOutputHelper Output { get; } = output;
    protected ShopClient Shop { get; } = new(system);
    protected List<string> BrowserErrors { get; } = [];
    protected IBrowserContext Context { get; private set; } = null!;
    protected IPage Page { get; private set; } = null!;

    protected string DashboardAddress => new Uri(System.GatewayAddress, "/dashboard/").ToString();

    static string ScreenshotDirectory => Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        Assertions.SetDefaultExpectTimeout(30_000);
        Context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1360, Height = 900 } });
        Page = await Context.NewPageAsync();
        Page.Console += (_, message) =>
        {
            // Rejected requests (a 403 for a customer token) are logged by the browser itself; the page handles those and the tests check
            // what it shows. Anything else (a script error, a CSP violation) is a defect.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
                BrowserErrors.Add(message.Text);
        };
        Page.PageError += (_, error) => BrowserErrors.Add(error);
    }

    public async Task DisposeAsync() => await Context.DisposeAsync();

    /// <summary>Saved with the test binaries (bin/.../screenshots), for a person to look at.</summary>
    protected async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, $"dashboard-{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        Output.WriteLine($"screenshot: {path}");
    }
}
