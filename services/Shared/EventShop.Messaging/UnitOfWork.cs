using EventShop.Messaging.Faults;
using EventShop.Messaging.Outbox;
using EventShop.Messaging.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace EventShop.Messaging;

/// <summary>
/// The one way a handler (a consumer, an HTTP endpoint, a background job) reads what it locks, writes rows and statements,
/// publishes messages and commits, all in one transaction of the service's database. Scoped: a consumer, the transactional
/// inbox filter around it and the saga repository share the instance of the message's scope.
/// <para>
/// Writes are collected and sent once, in one batch, when the unit of work commits (ADR 0003). The handler chooses how:
/// plain statements (<see cref="Insert"/>, <see cref="Update"/>, <see cref="Write"/>), the default, or EF's change tracker
/// (<see cref="UseChangeTracker"/>), whose <c>SaveChanges</c> then carries the collected rows too. The mode is never guessed:
/// entities changed through EF without <see cref="UseChangeTracker"/> fail the commit instead of being silently dropped.
/// </para>
/// <para>
/// Inside a consumer the transactional inbox filter begins and commits the unit of work around the handler (the inbox row
/// joins the batch); elsewhere the handler calls <see cref="CommitAsync"/>. Committing hands the outbox rows to the relay.
/// </para>
/// </summary>
public sealed class UnitOfWork(DbContext dbContext, OutboxSignal outboxSignal) : IAsyncDisposable
{
    readonly List<Action> _afterCommit = [];
    readonly List<object> _rows = [];
    readonly List<OutboxMessage> _outbox = [];
    readonly List<(object Owner, NpgsqlBatchCommand Command, int ExpectedRows)> _statements = [];
    IDbContextTransaction? _transaction;
    ConsumeContext? _message;
    bool _useChangeTracker;

    public DbContext DbContext { get; } = dbContext;

    /// <summary>A fault rule for the consumed message, armed by the fault injection filter (ADR 0014); null otherwise.</summary>
    internal ArmedFault? ArmedFault { get; set; }

    /// <summary>Whether a transaction is open on the service's database for this unit of work.</summary>
    public bool InTransaction => _transaction is not null;

    /// <summary>
    /// Writes go through EF's <c>SaveChanges</c> (what the handler loaded, changed or added through the DbContext), the
    /// collected rows and outbox messages with them, then the statements. For handlers that work on tracked entities.
    /// </summary>
    public void UseChangeTracker() => _useChangeTracker = true;

    /// <summary>Opens the transaction now, for a handler that must lock or read before deciding what to write.</summary>
    public async Task BeginAsync(CancellationToken cancellationToken)
    {
        if (InTransaction)
            throw new InvalidOperationException("This unit of work has begun already");
        PrepareDbContext();
        _transaction = await DbContext.Database.BeginTransactionAsync(cancellationToken);
    }

    /// <summary>One row by its key, not locked, read with a plain SELECT (inside the transaction when one is open).</summary>
    public Task<T?> ReadAsync<T>(object key, CancellationToken cancellationToken) where T : class =>
        ReadRowAsync<T>(key, forUpdate: false, cancellationToken);

    /// <summary>One row by its key, locked until the transaction ends (<c>SELECT ... FOR UPDATE</c>).</summary>
    public Task<T?> LockAsync<T>(object key, CancellationToken cancellationToken) where T : class =>
        InTransaction
            ? ReadRowAsync<T>(key, forUpdate: true, cancellationToken)
            : throw new InvalidOperationException($"Locking a {typeof(T).Name} row needs the transaction open (BeginAsync) to hold the lock");

    /// <summary>Several statements and reads in one round trip, inside the open transaction (locks first, then what they guard).</summary>
    public RowBatch Batch() => new(DbContext, OpenTransaction());

    /// <summary>
    /// Inserts <paramref name="row"/> now, not with the other writes, unless a row with its key exists; true when it
    /// inserted. The new row stays locked by this transaction: a concurrent insert of the same key waits for it.
    /// </summary>
    public async Task<bool> InsertIfAbsentAsync(object row, CancellationToken cancellationToken)
    {
        var transaction = OpenTransaction();
        await using var batch = new NpgsqlBatch(transaction.Connection, transaction);
        var insert = TableMap.For(DbContext, row.GetType()).InsertIfAbsent(row);
        batch.BatchCommands.Add(insert);
        await batch.ExecuteNonQueryAsync(cancellationToken);
        return insert.RecordsAffected == 1;
    }

    /// <summary>Inserts <paramref name="row"/> (an entity of the service's DbContext) with the other writes.</summary>
    public void Insert(object row) => _rows.Add(row);

    /// <summary>Updates every column of <paramref name="row"/> (read and locked in this unit of work) with the other writes.</summary>
    public void Update(object row) => Write(row, TableMap.For(DbContext, row.GetType()).Update(row));

    /// <summary>
    /// A statement that changes exactly <paramref name="expectedRows"/> rows (an UPDATE or DELETE, an INSERT of child rows),
    /// sent after the rows to insert, in the order given; any other count fails the whole unit of work.
    /// <paramref name="owner"/> names what it belongs to, for <see cref="Forget"/> and error messages.
    /// </summary>
    public void Write(object owner, NpgsqlBatchCommand command, int expectedRows = 1) => _statements.Add((owner, command, expectedRows));

    /// <summary>
    /// Publishes <paramref name="message"/> if, and only if, this unit of work commits. Inside a consumer the message
    /// continues the consumed one's conversation.
    /// </summary>
    /// <returns>The message's id, which its consumers' inboxes will know it by.</returns>
    public Guid Publish<T>(T message, Guid? correlationId = null) where T : class =>
        AddToOutbox(message, typeof(T), destination: null, correlationId ?? _message?.CorrelationId,
            _message?.ConversationId ?? NewId.NextGuid(), _message?.MessageId);

    /// <summary>Runs <paramref name="action"/> once the transaction has committed (never if it rolls back), e.g. to wake waiting HTTP requests.</summary>
    public void OnCommitted(Action action) => _afterCommit.Add(action);

    /// <summary>
    /// Writes everything collected and commits: one batch of statements (the BEGIN sent with it when no transaction was
    /// open yet), their row counts checked, then the COMMIT. Then hands the outbox rows to the relay and runs the
    /// <see cref="OnCommitted"/> actions. A failing statement stores nothing and publishes nothing.
    /// </summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_message is not null)
            throw new InvalidOperationException("A consumer's unit of work is committed by the transactional inbox filter, after the handler");

        if (!InTransaction)
            await BeginAsync(cancellationToken);
        try
        {
            await WriteAsync(cancellationToken);
            await CommitTransactionAsync(cancellationToken);
        }
        catch
        {
            // Nothing of this attempt survives, in the database or here: a retry of the handler starts from scratch.
            await RollbackAsync();
            throw;
        }
        Committed();
    }

    /// <summary>Starts the unit of work of one consumed message (the transactional inbox filter does this).</summary>
    internal async Task BeginMessageAsync(ConsumeContext message, CancellationToken cancellationToken)
    {
        // A retry of the message reuses its scope, and with it this instance: start from nothing.
        Reset();
        _message = message;
        await BeginAsync(cancellationToken);
    }

    /// <summary>Ends a consumed message's unit of work after its handler: writes, commits, signals (the inbox filter).</summary>
    internal async Task CommitMessageAsync(CancellationToken cancellationToken)
    {
        if (ArmedFault is null)
        {
            await WriteAsync(cancellationToken);
            await CommitTransactionAsync(cancellationToken);
            Committed();
            return;
        }

        InjectFault(CommitStage.BeforeWrite);
        await WriteAsync(cancellationToken);
        InjectFault(CommitStage.BeforeCommit);
        await CommitTransactionAsync(cancellationToken);
        InjectFault(CommitStage.AfterCommit);
        InjectFault(CommitStage.HandOver);
        Committed();
    }

    enum CommitStage { BeforeWrite, BeforeCommit, AfterCommit, HandOver }

    /// <summary>The one hook of fault injection in the unit of work (ADR 0014): the armed rule acts at its stage of the commit.</summary>
    void InjectFault(CommitStage stage)
    {
        var (rule, logger) = ArmedFault!;
        switch (stage)
        {
            case CommitStage.BeforeWrite when rule.Action == FaultActions.Fail:
                // A handler without a consumer pipe of its own (the saga): it fails here, before anything is written.
                throw new InjectedFaultException(rule.Id, rule.MessageType);
            case CommitStage.BeforeWrite when rule.Action == FaultActions.DropReply:
                // The effect commits, what it would have sent is discarded in the same transaction: a reply lost for good.
                _rows.RemoveAll(row => row is OutboxMessage);
                _outbox.Clear();
                break;
            case CommitStage.BeforeCommit when rule.CrashPoint == CrashPoints.BeforeCommit:
            case CommitStage.AfterCommit when rule.CrashPoint == CrashPoints.AfterCommit:
                FaultCrash.Now(rule, rule.CrashPoint, logger);
                break;
            case CommitStage.HandOver when rule.CrashPoint == CrashPoints.AfterPublish:
                // Dies inside the relay, between the broker's confirm and the delete of the rows (or now, with nothing to send).
                if (_outbox.Count == 0)
                    FaultCrash.Now(rule, rule.CrashPoint, logger);
                else
                    outboxSignal.OnPublished(_outbox.Select(row => row.Id), () => FaultCrash.Now(rule, rule.CrashPoint, logger));
                break;
        }
    }

    /// <summary>Rolls back whatever is open and forgets everything collected.</summary>
    internal async Task RollbackAsync()
    {
        if (_transaction is { } transaction)
        {
            _transaction = null;
            await using (transaction)
            {
                try
                {
                    await transaction.RollbackAsync(CancellationToken.None);
                }
                catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
                {
                    // The connection broke or the transaction already ended: the server has rolled it back.
                }
            }
        }
        Reset();
    }

    async Task CommitTransactionAsync(CancellationToken cancellationToken)
    {
        var transaction = _transaction!;
        await transaction.CommitAsync(cancellationToken);
        _transaction = null;
        await transaction.DisposeAsync();
    }

    /// <summary>A message MassTransit sends on the handler's behalf (a saga's activities publish through the consume context).</summary>
    internal Guid AddToOutbox(object message, Type messageType, string? destination, Guid? correlationId, Guid? conversationId, Guid? initiatorId)
    {
        // Our own message id instead of MassTransit's: it becomes the receivers' inbox key (SequentialIds explains why).
        var row = OutboxSerializer.Create(message, messageType, SequentialIds.Next(), destination, correlationId, conversationId, initiatorId);
        _rows.Add(row);
        _outbox.Add(row);
        return row.MessageId;
    }

    /// <summary>The messages this unit of work will publish when it commits, in the order they were added.</summary>
    internal IReadOnlyList<OutboxMessage> PendingOutbox => _outbox;

    /// <summary>Drops every pending write of <paramref name="owner"/>: the saga asked for its changes to be undone.</summary>
    internal void Forget(object owner)
    {
        _rows.RemoveAll(row => ReferenceEquals(row, owner));
        _statements.RemoveAll(statement => ReferenceEquals(statement.Owner, owner));
    }

    NpgsqlTransaction OpenTransaction() =>
        _transaction?.GetDbTransaction() as NpgsqlTransaction
        ?? throw new InvalidOperationException("Reads and locks of a unit of work run inside its transaction: call BeginAsync first");

    void PrepareDbContext()
    {
        // SaveChanges inside our transaction would wrap each call in SAVEPOINT/RELEASE (two more round trips). A failure
        // fails the whole unit of work and a retry starts a new transaction, so a savepoint would never be rolled back to.
        DbContext.Database.AutoSavepointsEnabled = false;
    }

    async Task<T?> ReadRowAsync<T>(object key, bool forUpdate, CancellationToken cancellationToken) where T : class
    {
        var database = DbContext.Database;
        var map = TableMap.For(DbContext, typeof(T));
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = _transaction?.GetDbTransaction() as NpgsqlTransaction;
            await using var batch = new NpgsqlBatch((NpgsqlConnection)database.GetDbConnection(), transaction);
            batch.BatchCommands.Add(forUpdate ? map.SelectForUpdate(key) : map.Select(key));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? (T)map.Read(reader) : null;
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    /// <summary>Writes everything collected, inside the open transaction. A unique violation (the inbox key) surfaces from here.</summary>
    async Task WriteAsync(CancellationToken cancellationToken)
    {
        var tracked = DbContext.ChangeTracker.EntriesAsTracked<object>().Count > 0;
        if (_useChangeTracker)
        {
            DbContext.AddRange(_rows);
            await DbContext.SaveChangesAsync(cancellationToken);
            if (_statements.Count > 0)
                await ExecuteAsync([], cancellationToken);
            return;
        }

        if (tracked)
        {
            throw new InvalidOperationException(
                $"Entities changed through {DbContext.GetType().Name} would not be saved: write them through the unit of work, or call UseChangeTracker()");
        }
        await ExecuteAsync(_rows, cancellationToken);
    }

    async Task ExecuteAsync(List<object> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0 && _statements.Count == 0)
            return;

        var transaction = OpenTransaction();
        await using var batch = new NpgsqlBatch(transaction.Connection, transaction);
        var returning = new List<(object Row, TableMap Map)>();
        foreach (var row in rows)
        {
            var map = TableMap.For(DbContext, row.GetType());
            batch.BatchCommands.Add(map.Insert(row));
            if (map.ReturnsGeneratedValues)
                returning.Add((row, map));
        }
        foreach (var (_, command, _) in _statements)
            batch.BatchCommands.Add(command);

        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            // Each insert with RETURNING gives exactly one row, in batch order; the other statements give none.
            var next = 0;
            do
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var (row, map) = returning[next++];
                    map.ReadGenerated(reader, row);
                }
            }
            while (await reader.NextResultAsync(cancellationToken));
        }

        foreach (var (owner, command, expectedRows) in _statements)
        {
            if (command.RecordsAffected != expectedRows)
                throw new InvalidOperationException(
                    $"{command.CommandText} changed {command.RecordsAffected} rows of {owner.GetType().Name}, expected {expectedRows}");
        }
    }

    void Committed()
    {
        outboxSignal.Committed(_outbox);
        foreach (var action in _afterCommit)
            action();
        Reset();
    }

    void Reset()
    {
        DbContext.ChangeTracker.Clear();
        _afterCommit.Clear();
        _rows.Clear();
        _outbox.Clear();
        _statements.Clear();
        _useChangeTracker = false;
        _message = null;
    }

    /// <summary>A unit of work left uncommitted (a handler that returned early, an exception) rolls back with its scope.</summary>
    public async ValueTask DisposeAsync()
    {
        if (InTransaction)
            await RollbackAsync();
    }
}
