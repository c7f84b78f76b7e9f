using Microsoft.Playwright;

namespace EventShop.Dashboard.Tests;

/// <summary>
/// Debian's chromium driven by Playwright. Playwright's own browser download cannot work on our machines, so the test uses the
/// distribution's package and fails (never skips) when it is missing.
/// </summary>
public sealed class ChromiumBrowser : IAsyncLifetime
{
    public static string ExecutablePath { get; } =
        Environment.GetEnvironmentVariable("EVENTSHOP_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"The dashboard browser tests need Chromium at {ExecutablePath} and will not skip without it.\n" +
                "Install it with: infra/local/ensure-browser.sh   (or: apt-get install -y chromium)\n" +
                "or point the tests at another Chromium with EVENTSHOP_CHROMIUM=/path/to/chromium. Do not run 'playwright install'.");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
