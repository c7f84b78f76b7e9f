using System.Text.Json;
using System.Text.Json.Nodes;
using EventShop.Messaging.Outbox;
using EventShop.Sagas.OrderPlacement;
using MassTransit;
using MassTransit.Saga;
using MassTransit.Serialization;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventShop.Sagas.Replay;

/// <summary>What one recorded message did, and what the current state machine does with it.</summary>
/// <param name="Event">The state machine's name for the event (e.g. <c>StepTimedOut</c>), or the message type when no event takes it.</param>
public sealed record ReplayStep(
    int Index, string Event, string FromState, string RecordedState, string ReplayedState, string[] RecordedSent, string[] ReplayedSent,
    string? Difference)
{
    public string RecordedTransition => $"{FromState} --{Event}--> {RecordedState}";
    public string ReplayedTransition => $"{FromState} --{Event}--> {ReplayedState}";
}

public sealed record ReplayResult(Guid OrderId, int Replayed, ReplayStep? Divergence)
{
    public bool Matches => Divergence is null;
}

/// <summary>
/// Feeds each recorded message to a state machine on MassTransit's in-memory test harness (no broker, no database),
/// starting from the saga as it was recorded just before that message, and compares the state it ends in, the saga's
/// data and the messages it sends with the recording (ADR 0015). Values the saga takes from its clock or from NewId
/// (timestamps, the step token) and the configured step timeout are not compared.
/// </summary>
public static class SagaReplayer
{
    static readonly string[] Volatile = ["stepToken", "stepDeadline", "stepTimeout", "createdAt", "updatedAt"];
    static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);
    static readonly TimeSpan MessageTimeout = TimeSpan.FromSeconds(30);

    public static Task<ReplayResult> ReplayAsync(SagaRecording recording, CancellationToken cancellationToken) =>
        ReplayAsync<OrderStateMachine>(recording, cancellationToken);

    public static async Task<ReplayResult> ReplayAsync<TMachine>(SagaRecording recording, CancellationToken cancellationToken)
        where TMachine : MassTransitStateMachine<OrderState>
    {
        await using var session = await Session.StartAsync<TMachine>();
        return await session.ReplayAsync(recording, cancellationToken);
    }

    /// <summary>
    /// One state machine on one harness for many recordings (<c>replay --all</c>): starting a harness costs more than
    /// replaying a saga. Sagas of different orders do not meet, and what a replay sent is told apart by message id.
    /// </summary>
    public sealed class Session : IAsyncDisposable
    {
        readonly ServiceProvider _provider;
        readonly ITestHarness _harness;
        readonly Dictionary<string, (string Event, Type MessageType)> _events;
        readonly IndexedSagaDictionary<OrderState> _sagas;
        readonly HashSet<Guid> _seen = [];

        Session(ServiceProvider provider, ITestHarness harness, SagaStateMachine<OrderState> machine)
        {
            _provider = provider;
            _harness = harness;
            _events = EventsByMessageType(machine);
            _sagas = provider.GetRequiredService<IndexedSagaDictionary<OrderState>>();
        }

        public static async Task<Session> StartAsync<TMachine>() where TMachine : MassTransitStateMachine<OrderState>
        {
            var provider = new ServiceCollection()
                .AddSingleton(TimeProvider.System)
                .Configure<OrderPlacementOptions>(_ => { })
                // The harness logs every send and receive at Debug to the console unless a logger factory is already there:
                // the replay's output is its report, nothing else.
                .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
                .AddMassTransitTestHarness(bus => bus.AddSagaStateMachine<TMachine, OrderState>().InMemoryRepository())
                .BuildServiceProvider(true);
            var harness = provider.GetRequiredService<ITestHarness>();
            await harness.Start();
            return new Session(provider, harness, provider.GetRequiredService<TMachine>());
        }

        public ValueTask DisposeAsync() => _provider.DisposeAsync();

        public Task<ReplayResult> ReplayAsync(SagaRecording recording, CancellationToken cancellationToken) =>
            Replay(recording, _harness, _events, _sagas, _seen, cancellationToken);
    }

    static async Task<ReplayResult> Replay(SagaRecording recording, ITestHarness harness,
        Dictionary<string, (string Event, Type MessageType)> events, IndexedSagaDictionary<OrderState> sagas, HashSet<Guid> seen,
        CancellationToken cancellationToken)
    {
        foreach (var recorded in recording.Messages)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var recordedSent = recorded.Sent.Select(send => Describe(send.MessageType, send.Body)).ToArray();
            if (!events.TryGetValue(recorded.MessageType, out var handled))
            {
                return Diverged(recorded, ShortName(recorded.MessageType), recorded.FromState, recordedSent, [],
                    $"the state machine has no event for {recorded.MessageType}");
            }

            await SeedAsync(sagas, recording.OrderId, recorded.StateBefore, cancellationToken);
            var message = recorded.Body.Deserialize(handled.MessageType, SystemTextJsonMessageSerializer.Options)
                ?? throw new InvalidDataException($"Message {recorded.Index} has an empty body");
            var messageId = NewId.NextGuid();
            seen.Add(messageId);
            await harness.Bus.Publish(message, handled.MessageType, context => context.MessageId = messageId, cancellationToken);

            var consumed = await ConsumedAsync(harness, messageId, cancellationToken);
            var replayedSent = harness.Published.Select(x => x.Context.MessageId is { } id && seen.Add(id), cancellationToken)
                .Select(x => Describe(OutboxSerializer.TypeName(x.MessageType), JsonSerializer.SerializeToElement(x.MessageObject, x.MessageType, WebJson)))
                .ToArray();
            var after = sagas[recording.OrderId]?.Instance;
            var replayedState = StateName(after?.CurrentState);

            string? difference = null;
            if (consumed is null)
                difference = "the message was never consumed";
            else if (consumed.Exception is { } exception)
                difference = $"the saga failed: {exception.GetType().Name}: {exception.Message}";
            else if (replayedState != recorded.ToState)
                difference = $"the saga ends in {replayedState}, recorded {recorded.ToState}";
            else if (!recordedSent.SequenceEqual(replayedSent))
                difference = "the saga sends other messages";
            else if (after is not null && DataDifference(recorded.StateAfter, after) is { } field)
                difference = $"the saga's {field} differs";

            if (difference is not null)
                return Diverged(recorded, handled.Event, recorded.FromState, recordedSent, replayedSent, difference, replayedState);
        }
        return new ReplayResult(recording.OrderId, recording.Messages.Length, null);

        ReplayResult Diverged(RecordedMessage recorded, string @event, string from, string[] recordedSent, string[] replayedSent, string difference,
            string? replayedState = null) =>
            new(recording.OrderId, recorded.Index, new ReplayStep(recorded.Index, @event, from, recorded.ToState, replayedState ?? "-",
                recordedSent, replayedSent, difference));
    }

    /// <summary>
    /// Waits for the saga to have consumed the message. Polled rather than awaited through the harness's Any(), which gives
    /// up as soon as the bus looks idle for a moment: on a loaded machine that happens while the saga is still running.
    /// </summary>
    static async Task<IReceivedMessage?> ConsumedAsync(ITestHarness harness, Guid messageId, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + MessageTimeout;
        while (true)
        {
            var consumed = harness.Consumed.Select(x => x.Context.MessageId == messageId, cancellationToken).FirstOrDefault();
            if (consumed is not null || DateTime.UtcNow > deadline)
                return consumed;
            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
        }
    }

    /// <summary>Puts the saga in the repository as it was before the message; a saga the message created is not there yet.</summary>
    static async Task SeedAsync(IndexedSagaDictionary<OrderState> sagas, Guid orderId, JsonElement before, CancellationToken cancellationToken)
    {
        var instance = before.Deserialize<OrderState>(WebJson) ?? throw new InvalidDataException("A recorded state is empty");
        await sagas.MarkInUse(cancellationToken);
        try
        {
            if (sagas[orderId] is { } existing)
                sagas.Remove(existing);
            if (StateName(instance.CurrentState) != "Initial")
                sagas.Add(new SagaInstance<OrderState>(instance));
        }
        finally
        {
            sagas.Release();
        }
    }

    /// <summary>Each event of the machine by the wire name of its message type, as the recording names it.</summary>
    static Dictionary<string, (string Event, Type MessageType)> EventsByMessageType(SagaStateMachine<OrderState> machine)
    {
        var events = new Dictionary<string, (string, Type)>();
        foreach (var @event in machine.Events)
        {
            var data = @event.GetType().GetInterfaces()
                .FirstOrDefault(type => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Event<>))?.GetGenericArguments()[0];
            if (data is not null)
                events.TryAdd(MessageUrn.ForTypeString(data), (@event.Name, data));
        }
        return events;
    }

    static string StateName(string? state) => string.IsNullOrEmpty(state) ? "Initial" : state;

    static string ShortName(string messageType) => messageType[(messageType.LastIndexOf(':') + 1)..];

    static string Describe(string messageType, JsonElement body)
    {
        var name = messageType.Split(',')[0];
        return $"{name[(name.LastIndexOf('.') + 1)..]} {Normalise(JsonNode.Parse(body.GetRawText()))?.ToJsonString()}";
    }

    /// <summary>
    /// One spelling for equal messages: keys in order (PostgreSQL's jsonb keeps its own order), numbers without trailing
    /// zeros (25.0 and 25.00 are the same amount), and times, which are the saga's clock rather than its decision, as &lt;time&gt;.
    /// </summary>
    static JsonNode? Normalise(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var sorted = new JsonObject();
                foreach (var (key, value) in obj.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                    sorted[key] = Normalise(value?.DeepClone());
                return sorted;
            case JsonArray array:
                return new JsonArray([.. array.Select(item => Normalise(item?.DeepClone()))]);
            case JsonValue value when value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<decimal>(out var number):
                return JsonValue.Create(number / 1.000000000000000000000000000000000m);
            case JsonValue value when value.TryGetValue<string>(out var text) && text.Length >= 19 && text[4] == '-' && text[10] == 'T'
                && DateTimeOffset.TryParse(text, out _):
                return JsonValue.Create("<time>");
            default:
                return node;
        }
    }

    /// <summary>The first field of the saga (apart from clock, ids and configuration) whose replayed value differs.</summary>
    static string? DataDifference(JsonElement recorded, OrderState replayed)
    {
        var mine = JsonSerializer.SerializeToElement(replayed, WebJson);
        foreach (var property in recorded.EnumerateObject())
        {
            if (Volatile.Contains(property.Name, StringComparer.OrdinalIgnoreCase))
                continue;
            if (!mine.TryGetProperty(property.Name, out var value) || !JsonElement.DeepEquals(value, property.Value))
                return property.Name;
        }
        return null;
    }
}
