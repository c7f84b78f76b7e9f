using EventShop.Contracts.Orders;
using EventShop.Sagas.OrderPlacement;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EventShop.Sagas.Tests;

/// <summary>The order saga on MassTransit's in-memory test harness: no broker, no database, only the state machine's decisions.</summary>
public sealed class OrderStateMachineHarness : IAsyncLifetime
{
    readonly ServiceProvider _provider;

    /// <param name="services">Stand-ins for the services the saga talks to, e.g. a consumer that fails.</param>
    public OrderStateMachineHarness(Action<IBusRegistrationConfigurator>? services = null)
    {
        _provider = new ServiceCollection()
            .AddSingleton(TimeProvider.System)
            .Configure<OrderPlacementOptions>(options =>
            {
                options.StepTimeout = TimeSpan.FromSeconds(30);
                options.MaxCompensationAttempts = MaxCompensationAttempts;
            })
            .AddMassTransitTestHarness(bus =>
            {
                bus.AddSagaStateMachine<OrderStateMachine, OrderState>().InMemoryRepository();
                services?.Invoke(bus);
            })
            .BuildServiceProvider(true);
        Harness = _provider.GetRequiredService<ITestHarness>();
        Machine.ConnectEventObserver(TransitionCoverage.Instance);
    }

    public const int MaxCompensationAttempts = 3;

    public ITestHarness Harness { get; }

    public ISagaStateMachineTestHarness<OrderStateMachine, OrderState> Saga =>
        Harness.GetSagaStateMachineHarness<OrderStateMachine, OrderState>();

    public OrderStateMachine Machine => _provider.GetRequiredService<OrderStateMachine>();

    public Guid OrderId { get; } = NewId.NextGuid();

    public Task InitializeAsync() => Harness.Start();

    public async Task DisposeAsync() => await _provider.DisposeAsync();

    public Task SubmitAsync(decimal total = 25.50m) =>
        Harness.Bus.Publish(new OrderSubmitted(OrderId, "alice", "shop", total, DateTimeOffset.UtcNow));

    public Task PublishAsync<T>(T message) where T : class => Harness.Bus.Publish(message);

    /// <summary>Waits until the saga is in <paramref name="state"/>; fails the test if it never gets there.</summary>
    public async Task<OrderState> InStateAsync(Func<OrderStateMachine, State> state)
    {
        var id = await Saga.Exists(OrderId, state);
        Assert.True(id.HasValue, $"saga never reached {state(Machine).Name}; it is in {Saga.Sagas.Contains(OrderId)?.CurrentState ?? "(none)"}");
        return Saga.Sagas.Contains(OrderId)!;
    }

    /// <summary>Waits (up to the harness timeout) for a <typeparamref name="T"/> of this order to be published.</summary>
    public async Task<bool> PublishedAsync<T>() where T : class =>
        await Harness.Published.Any<T>(x => IsThisOrder(x.Context.Message));

    public int PublishedCount<T>() where T : class =>
        Harness.Published.Select<T>(x => IsThisOrder(x.Context.Message)).Count();

    // Every EventShop message carries OrderId (the saga's CorrelationId).
    bool IsThisOrder(object message) => (Guid)message.GetType().GetProperty("OrderId")!.GetValue(message)! == OrderId;

    /// <summary>Waits (bounded, about 5 s) until <paramref name="condition"/> holds; fails the test otherwise.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 100 && !condition(); i++)
            await Task.Delay(50);
        Assert.True(condition(), what);
    }

    /// <summary>Lets the in-memory bus finish delivering, so "nothing was published" assertions are meaningful.</summary>
    public Task SettleAsync() => Harness.InactivityTask;
}
