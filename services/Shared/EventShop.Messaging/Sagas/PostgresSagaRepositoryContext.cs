using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace EventShop.Messaging.Sagas;

public sealed class PostgresSagaRepositoryContext<TSaga, TMessage> : ConsumeContextScope<TMessage>, SagaRepositoryContext<TSaga, TMessage>
    where TSaga : class, ISaga
    where TMessage : class
{
    readonly DbContext _dbContext;
    readonly ConsumeContext<TMessage> _consumeContext;
    readonly PostgresSagaConsumeContextFactory<TSaga> _factory;
    readonly string _tableName;

    // The saga's table comes from the EF model, which is the same for every message in this process: looked up once.
    // (Per generic instantiation: TMessage varies, so it is looked up once per message type, which is still a handful.)
    static string? s_tableName;

    public PostgresSagaRepositoryContext(DbContext dbContext, ConsumeContext<TMessage> consumeContext, PostgresSagaConsumeContextFactory<TSaga> factory)
        : base(consumeContext, dbContext)
    {
        _dbContext = dbContext;
        _consumeContext = consumeContext;
        _factory = factory;
        _tableName = s_tableName ??= TableName(dbContext);
    }

    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance) =>
        _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Add);

    public async Task<SagaConsumeContext<TSaga, TMessage>> Insert(TSaga instance)
    {
        // A failed INSERT aborts a PostgreSQL transaction; the savepoint keeps the inbox row and the rest usable.
        var transaction = _dbContext.Database.CurrentTransaction ?? throw new InvalidOperationException("No transaction is active");
        await transaction.CreateSavepointAsync("saga_insert", CancellationToken);
        var entry = _dbContext.Set<TSaga>().Add(instance);
        try
        {
            await _dbContext.SaveChangesAsync(CancellationToken);
            return await _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Insert);
        }
        catch (DbUpdateException)
        {
            entry.State = EntityState.Detached;
            await transaction.RollbackToSavepointAsync("saga_insert", CancellationToken);
            return default!;
        }
    }

    public async Task<SagaConsumeContext<TSaga, TMessage>> Load(Guid correlationId)
    {
        var instance = await _dbContext.Set<TSaga>()
#pragma warning disable EF1002 // the table name comes from the EF model, never from input; the id is a parameter
            .FromSqlRaw($"SELECT * FROM {_tableName} WHERE \"CorrelationId\" = {{0}} FOR UPDATE", correlationId)
#pragma warning restore EF1002
            .SingleOrDefaultAsync(CancellationToken);
        if (instance is null)
            return default!;

        return await _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Load);
    }

    // Save, Update and Delete only change the DbContext: the transactional inbox filter saves once after the handler, in
    // one batch with the history rows, the outbox rows and the inbox row. Saving here as well would run EF's change
    // detection and update pipeline twice per message for nothing (the saga host's largest CPU cost, docs/benchmark.md).
    public Task Save(SagaConsumeContext<TSaga> context)
    {
        _dbContext.Set<TSaga>().Add(context.Saga);
        return Task.CompletedTask;
    }

    public Task Update(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    public Task Delete(SagaConsumeContext<TSaga> context)
    {
        _dbContext.Set<TSaga>().Remove(context.Saga);
        return Task.CompletedTask;
    }

    public Task Discard(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    public Task Undo(SagaConsumeContext<TSaga> context)
    {
        var entry = _dbContext.ChangeTracker.Entries<TSaga>().FirstOrDefault(x => x.Entity.CorrelationId == context.Saga.CorrelationId);
        if (entry is not null)
            entry.State = EntityState.Unchanged;
        return Task.CompletedTask;
    }

    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, TSaga instance, SagaConsumeContextMode mode)
        where T : class =>
        _factory.CreateSagaConsumeContext(_dbContext, consumeContext, instance, mode);

    static string TableName(DbContext dbContext)
    {
        var entityType = dbContext.Model.FindEntityType(typeof(TSaga))
            ?? throw new InvalidOperationException($"{typeof(TSaga).Name} is not mapped in {dbContext.GetType().Name}");
        var table = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
        return entityType.GetSchema() is { } schema ? $"\"{schema}\".\"{table.Name}\"" : $"\"{table.Name}\"";
    }
}
