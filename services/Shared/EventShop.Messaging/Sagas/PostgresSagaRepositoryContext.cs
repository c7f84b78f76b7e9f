using EventShop.Messaging.Storage;
using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;

namespace EventShop.Messaging.Sagas;

/// <summary>
/// One message's view of the saga table. Rows are read and written with plain statements (<see cref="TableMap"/>), not
/// through EF's change tracker: the load is one <c>SELECT ... FOR UPDATE</c>, and the new, changed or removed row joins
/// the message's other writes in its <see cref="UnitOfWork"/>, which sends them in one batch after the saga has run.
/// </summary>
public sealed class PostgresSagaRepositoryContext<TSaga, TMessage> : ConsumeContextScope<TMessage>, SagaRepositoryContext<TSaga, TMessage>
    where TSaga : class, ISaga
    where TMessage : class
{
    readonly UnitOfWork _unitOfWork;
    readonly ConsumeContext<TMessage> _consumeContext;
    readonly PostgresSagaConsumeContextFactory<TSaga> _factory;
    readonly TableMap _table;
    readonly ISagaRecorder<TSaga>? _recorder;
    readonly Dictionary<TSaga, string> _captured = new(ReferenceEqualityComparer.Instance);

    // What each instance looked like when it was read or inserted: an event that changes nothing (a duplicate, a late
    // reply) writes nothing. By reference, because the instance's key never changes.
    readonly Dictionary<TSaga, object?[]> _stored = new(ReferenceEqualityComparer.Instance);

    public PostgresSagaRepositoryContext(UnitOfWork unitOfWork, ConsumeContext<TMessage> consumeContext, PostgresSagaConsumeContextFactory<TSaga> factory,
        ISagaRecorder<TSaga>? recorder)
        : base(consumeContext, unitOfWork.DbContext)
    {
        _recorder = recorder;
        _unitOfWork = unitOfWork;
        _consumeContext = consumeContext;
        _factory = factory;
        _table = TableMap.For(unitOfWork.DbContext, typeof(TSaga));
    }

    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance)
    {
        Capture(instance);
        return _factory.CreateSagaConsumeContext(_unitOfWork.DbContext, _consumeContext, instance, SagaConsumeContextMode.Add);
    }

    public async Task<SagaConsumeContext<TSaga, TMessage>> Insert(TSaga instance)
    {
        // ON CONFLICT DO NOTHING instead of a failing INSERT: a failed statement would abort the whole transaction (the
        // inbox row with it), and a savepoint to survive that costs a round trip more.
        if (!await _unitOfWork.InsertIfAbsentAsync(instance, CancellationToken))
        {
            MessagingMetrics.SagaInsertConflicts.Add(1);
            return default!;
        }

        _stored[instance] = _table.Snapshot(instance);
        Capture(instance);
        return await _factory.CreateSagaConsumeContext(_unitOfWork.DbContext, _consumeContext, instance, SagaConsumeContextMode.Insert);
    }

    public async Task<SagaConsumeContext<TSaga, TMessage>> Load(Guid correlationId)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var instance = await _unitOfWork.LockAsync<TSaga>(correlationId, CancellationToken);
        MessagingMetrics.SagaLockWait.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (instance is null)
            return default!;

        _stored[instance] = _table.Snapshot(instance);
        Capture(instance);
        return await _factory.CreateSagaConsumeContext(_unitOfWork.DbContext, _consumeContext, instance, SagaConsumeContextMode.Load);
    }

    // Save, Update and Delete only queue the statement: the transactional inbox filter writes it after the handler, in one
    // batch with the history rows, the outbox rows and the inbox row.
    public Task Save(SagaConsumeContext<TSaga> context)
    {
        _unitOfWork.Insert(context.Saga);
        Record(context.Saga);
        return Task.CompletedTask;
    }

    public Task Update(SagaConsumeContext<TSaga> context)
    {
        var instance = context.Saga;
        if (!_stored.TryGetValue(instance, out var stored) || _table.HasChanged(instance, stored))
            _unitOfWork.Write(instance, _table.Update(instance));
        Record(instance);
        return Task.CompletedTask;
    }

    public Task Delete(SagaConsumeContext<TSaga> context)
    {
        _unitOfWork.Write(context.Saga, _table.Delete(context.Saga));
        Record(context.Saga);
        return Task.CompletedTask;
    }

    public Task Discard(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    public Task Undo(SagaConsumeContext<TSaga> context)
    {
        _unitOfWork.Forget(context.Saga);
        return Task.CompletedTask;
    }

    void Capture(TSaga instance)
    {
        if (_recorder is not null)
            _captured[instance] = _recorder.Capture(instance);
    }

    // Every message that reached an instance is recorded, one that changed nothing too (a duplicate, a late reply): a
    // replay must see the same inputs. The outbox holds exactly what this message's handling sent.
    void Record(TSaga instance)
    {
        if (_recorder is not null && _captured.Remove(instance, out var before))
            _recorder.Record(_unitOfWork, _consumeContext, _consumeContext.Message, typeof(TMessage), before, instance, _unitOfWork.PendingOutbox);
    }

    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, TSaga instance, SagaConsumeContextMode mode)
        where T : class =>
        _factory.CreateSagaConsumeContext(_unitOfWork.DbContext, consumeContext, instance, mode);
}
