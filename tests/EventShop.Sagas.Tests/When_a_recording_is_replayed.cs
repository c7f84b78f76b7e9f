using EventShop.Sagas.OrderPlacement;
using EventShop.Sagas.Replay;

namespace EventShop.Sagas.Tests;

/// <summary>
/// Replay (ADR 0015) on recordings the saga host wrote for real orders (Recordings/*.json, as
/// <c>GET /api/sagas/{orderId}/messages</c> returned them): the current state machine reproduces them, and a changed one
/// is caught at the first transition that differs, with both sides shown.
/// </summary>
public sealed class When_a_recording_is_replayed
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData("completed-order.json")]
    public async Task Should_match_on_the_current_state_machine(string file)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var result = await SagaReplayer.ReplayAsync(Load(file), timeout.Token);

        Assert.True(result.Matches, ReplayReport.Format(result));
        Assert.Equal(5, result.Replayed);
    }

    [Fact]
    public async Task Should_name_the_first_transition_that_a_changed_state_machine_takes_differently()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var result = await SagaReplayer.ReplayAsync<ChangedOrderStateMachine>(Load("completed-order.json"), timeout.Token);

        Assert.False(result.Matches);
        var step = result.Divergence!;
        Assert.Equal(1, step.Index);
        Assert.Equal("Debiting --CustomerDebited--> Crediting", step.RecordedTransition);
        Assert.Equal("Debiting --CustomerDebited--> Accruing", step.ReplayedTransition);
        Assert.StartsWith("CreditMerchant ", step.RecordedSent.Single());
        Assert.StartsWith("AccruePoints ", step.ReplayedSent.Single());

        var report = ReplayReport.Format(result);
        Assert.Contains("diverges at message 1 (CustomerDebited in Debiting)", report);
        Assert.Contains("state Debiting --CustomerDebited--> Crediting", report);
        Assert.Contains("| state Debiting --CustomerDebited--> Accruing", report);
    }

    [Fact]
    public async Task Should_report_a_message_the_state_machine_has_no_event_for()
    {
        var recording = Load("completed-order.json");
        var changed = recording with
        {
            Messages = [recording.Messages[0] with { MessageType = "urn:message:EventShop.Contracts.Orders:OrderSubmittedV2" }],
        };

        using var timeout = new CancellationTokenSource(Timeout);
        var result = await SagaReplayer.ReplayAsync<OrderStateMachine>(changed, timeout.Token);

        Assert.Equal(0, result.Divergence!.Index);
        Assert.Contains("no event for urn:message:EventShop.Contracts.Orders:OrderSubmittedV2", result.Divergence.Difference);
    }

    static SagaRecording Load(string file) =>
        SagaRecording.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Recordings", file)));
}
