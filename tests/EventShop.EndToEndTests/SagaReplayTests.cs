using System.Diagnostics;
using System.Text.Json;
using EventShop.Testing;
using Xunit.Abstractions;

namespace EventShop.EndToEndTests;

/// <summary>
/// The saga host records every message a saga consumed (ADR 0015), and <c>infra/eventshop replay</c> feeds that recording
/// to the current state machine: a real order, recorded by the running services, replays without a difference.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class SagaReplayTests(EventShopSystem system, ITestOutputHelper output)
{
    readonly ShopClient _shop = new(system);

    [Fact]
    public async Task When_an_order_completes_Should_record_its_messages_and_replay_to_exit_0()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        var orderId = await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 12.50m, quantity: 2);
        Assert.Equal("Completed", (await _shop.WaitForOutcomeAsync(orderId)).Status);

        var json = await system.Operator().GetStringAsync($"/api/sagas/{orderId}/messages");
        output.WriteLine(json);
        using var recording = JsonDocument.Parse(json);
        var messages = recording.RootElement.GetProperty("messages").EnumerateArray().ToArray();
        // On a slow machine Orders may ask the saga again while it runs or after it ended (ADR 0008): that OrderSubmitted is
        // recorded too, as a message that changed nothing. The order's path is the messages that moved its state.
        var transitions = messages.Where(m => m.GetProperty("fromState").GetString() != m.GetProperty("toState").GetString()).ToArray();
        Assert.Equal(["OrderSubmitted", "CustomerDebited", "MerchantCredited", "PointsAccrued"],
            transitions.Select(m => m.GetProperty("messageType").GetString()!.Split(':')[^1]));
        Assert.Equal(["Debiting", "Crediting", "Accruing", "Completed"], transitions.Select(m => m.GetProperty("toState").GetString()));
        Assert.Equal("DebitCustomer", messages[0].GetProperty("sent")[0].GetProperty("messageType").GetString()!.Split(',')[0].Split('.')[^1]);

        var (exitCode, text) = await ReplayAsync(orderId.ToString(), "--gateway", system.GatewayAddress.ToString());
        Assert.True(exitCode == 0, text);
        Assert.Contains($"{messages.Length} recorded messages replayed", text);
    }

    [Fact]
    public async Task When_the_saga_is_unknown_Should_answer_404()
    {
        using var response = await system.Operator().GetAsync($"/api/sagas/{Guid.NewGuid()}/messages");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    async Task<(int ExitCode, string Output)> ReplayAsync(params string[] arguments)
    {
        var dll = Path.Combine(RepositoryLayout.ServiceBinaries("sagas/EventShop.Sagas.Replay"), "EventShop.Sagas.Replay.dll");
        var start = new ProcessStartInfo("dotnet", [dll, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["EVENTSHOP_TOKEN"] = system.Token("test-operator", "operator");
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var text = await stdout + await stderr;
        output.WriteLine(text);
        return (process.ExitCode, text);
    }
}
