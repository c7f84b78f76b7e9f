using MassTransit;

namespace EventShop.Messaging.Faults;

/// <summary>
/// Carries out an armed <c>fail</c> rule inside each consumer's own pipe. MassTransit turns only a consumer's (or saga's)
/// exception into <see cref="Fault{T}"/> after the last retry; thrown by a filter in front of the consumer, the same failure
/// reaches the error queue as a bare receive fault and the saga hears nothing until its step timeout. Injected here, a
/// <c>fail</c> is indistinguishable from a handler that throws.
/// </summary>
public sealed class InjectedFailureObserver : IConsumerConfigurationObserver
{
    public void ConsumerConfigured<TConsumer>(IConsumerConfigurator<TConsumer> configurator) where TConsumer : class
    {
    }

    public void ConsumerMessageConfigured<TConsumer, TMessage>(IConsumerMessageConfigurator<TConsumer, TMessage> configurator)
        where TConsumer : class
        where TMessage : class =>
        configurator.UseFilter(new InjectedFailureFilter<ConsumerConsumeContext<TConsumer, TMessage>>());
}

/// <summary>Throws when the message's unit of work carries an armed <c>fail</c> rule (see <see cref="FaultInjectionFilter{TMessage}"/>).</summary>
public sealed class InjectedFailureFilter<TContext> : IFilter<TContext>
    where TContext : class, ConsumeContext
{
    public Task Send(TContext context, IPipe<TContext> next) =>
        context.TryGetPayload(out UnitOfWork? unitOfWork) && unitOfWork.ArmedFault is { Rule.Action: FaultActions.Fail } armed
            ? throw new InjectedFaultException(armed.Rule.Id, armed.Rule.MessageType)
            : next.Send(context);

    public void Probe(ProbeContext context) => context.CreateFilterScope("injectedFailure");
}
