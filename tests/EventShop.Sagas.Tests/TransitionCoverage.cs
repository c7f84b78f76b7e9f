using System.Collections.Concurrent;
using EventShop.Sagas.OrderPlacement;
using MassTransit;

namespace EventShop.Sagas.Tests;

/// <summary>
/// Which edges of the state machine's graph (<see cref="StateMachineDiagram.Edges{TSaga}"/>) the tests walked: every
/// harness connects this observer, and each event the saga handled marks "state, then event" and, when the state
/// changed, "event, then new state".
/// </summary>
public sealed class TransitionCoverage : IEventObserver<OrderState>
{
    public static readonly TransitionCoverage Instance = new();

    static readonly ConcurrentDictionary<(string From, string To), int> Walked = new();

    public static IReadOnlyCollection<(string From, string To)> Edges => [.. Walked.Keys];

    public Task PreExecute(BehaviorContext<OrderState> context) => Before(context);

    public Task PreExecute<T>(BehaviorContext<OrderState, T> context) where T : class => Before(context);

    public Task PostExecute(BehaviorContext<OrderState> context) => After(context);

    public Task PostExecute<T>(BehaviorContext<OrderState, T> context) where T : class => After(context);

    public Task ExecuteFault(BehaviorContext<OrderState> context, Exception exception) => Task.CompletedTask;

    public Task ExecuteFault<T>(BehaviorContext<OrderState, T> context, Exception exception) where T : class => Task.CompletedTask;

    static Task Before(BehaviorContext<OrderState> context)
    {
        context.GetOrAddPayload(() => new StateBefore(Name(context.Saga.CurrentState)));
        return Task.CompletedTask;
    }

    static Task After(BehaviorContext<OrderState> context)
    {
        if (!context.TryGetPayload(out StateBefore? before))
            return Task.CompletedTask;
        var @event = $"on {context.Event.Name}";
        Walked.AddOrUpdate((before!.State, @event), 1, (_, n) => n + 1);
        var after = Name(context.Saga.CurrentState);
        if (after != before.State)
            Walked.AddOrUpdate((@event, after), 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    static string Name(string? state) => string.IsNullOrEmpty(state) ? "Initial" : state;

    sealed record StateBefore(string State);
}
