using MassTransit;
using MassTransit.Saga;

namespace EventShop.Messaging.Sagas;

/// <summary>
/// Our saga repository on PostgreSQL, its table described by the service's EF model. It does not open its own transaction: the transactional inbox filter has
/// already started one (with the inbox row and the outbox), so the saga's state change, its history and the commands it
/// sends commit together. Concurrency: the instance row is locked with SELECT ... FOR UPDATE for the whole transaction,
/// so two events for one order are applied one after the other, never over each other (see ADR 0003).
/// </summary>
public sealed class PostgresSagaRepositoryContextFactory<TSaga>(PostgresSagaConsumeContextFactory<TSaga> consumeContextFactory,
    ISagaRecorder<TSaga>? recorder = null)
    : ISagaRepositoryContextFactory<TSaga>
    where TSaga : class, ISaga
{
    public Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<TSaga, T>> next)
        where T : class
    {
        if (!context.TryGetPayload(out UnitOfWork? unitOfWork))
        {
            throw new InvalidOperationException(
                $"Saga {typeof(TSaga).Name} received {typeof(T).Name} outside a transaction: configure the endpoint with UseTransactionalInbox().");
        }

        var repositoryContext = new PostgresSagaRepositoryContext<TSaga, T>(unitOfWork!, context, consumeContextFactory, recorder);
        return next.Send(repositoryContext);
    }

    public Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class =>
        throw new NotSupportedException($"Saga {typeof(TSaga).Name} is correlated by CorrelationId only; query correlation is not supported.");

    public void Probe(ProbeContext context) => context.Add("persistence", "eventshop-postgres");
}
