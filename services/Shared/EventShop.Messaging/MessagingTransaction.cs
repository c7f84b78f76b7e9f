using EventShop.Messaging.Outbox;
using EventShop.Messaging.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EventShop.Messaging;

/// <summary>
/// Carried as a payload on the consume context while a message is handled inside a service's database transaction. It
/// collects what the messaging code writes for the message (the inbox row, outbox rows, the saga row and its history) and
/// writes it once, after the handler: in one batch of plain statements when the handler did not use EF, or in the handler's
/// own <c>SaveChanges</c> when it did, so either way it costs no round trip of its own (ADR 0003).
/// Code outside a consumer (an HTTP handler) uses it too: it queues its rows and events and calls <see cref="CommitAsync"/>,
/// which sends them as one batch in a transaction of their own.
/// </summary>
public sealed class MessagingTransaction(DbContext dbContext)
{
    readonly List<Action> _afterCommit = [];
    readonly List<object> _rows = [];
    readonly List<OutboxMessage> _outbox = [];
    readonly List<(object Owner, NpgsqlBatchCommand Command, int ExpectedRows)> _statements = [];

    public DbContext DbContext { get; } = dbContext;

    /// <summary>The outbox rows written with this message; they carry their ids once <see cref="WriteAsync"/> has run.</summary>
    public IReadOnlyList<OutboxMessage> OutboxRows => _outbox;

    /// <summary>Runs <paramref name="action"/> once the transaction has committed (never if it rolls back), e.g. to wake waiting HTTP requests.</summary>
    public void OnCommitted(Action action) => _afterCommit.Add(action);

    /// <summary>Inserts <paramref name="row"/> (an entity of the service's DbContext) with the message's other writes.</summary>
    public void Insert(object row) => _rows.Add(row);

    internal void AddOutbox(OutboxMessage row)
    {
        _rows.Add(row);
        _outbox.Add(row);
    }

    /// <summary>
    /// A statement that changes exactly <paramref name="expectedRows"/> rows (an UPDATE or DELETE EF does not track, an
    /// INSERT of child rows), sent after the rows to insert, in the order given; any other count fails the whole write.
    /// <paramref name="owner"/> names what it belongs to, for <see cref="Forget"/> and error messages.
    /// </summary>
    public void Write(object owner, NpgsqlBatchCommand command, int expectedRows = 1) => _statements.Add((owner, command, expectedRows));

    /// <summary>
    /// Publishes <paramref name="message"/> when, and only when, this transaction commits: for code outside a consumer,
    /// where no consume context routes <c>Publish</c> to the outbox.
    /// </summary>
    public void Publish<T>(T message, Guid correlationId, TimeProvider clock) where T : class =>
        AddOutbox(OutboxSerializer.Create(message, typeof(T), SequentialIds.Next(), destinationAddress: null, correlationId,
            conversationId: NewId.NextGuid(), initiatorId: null, clock));

    /// <summary>
    /// Writes everything queued and commits, for code outside a consumer: one transaction, its BEGIN sent with the batch
    /// (so two round trips: the batch and the COMMIT, the statements' row counts checked in between), then runs the
    /// <see cref="OnCommitted"/> actions. Hand <see cref="OutboxRows"/> to the <see cref="OutboxSignal"/> afterwards.
    /// A failing statement stores nothing.
    /// </summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (DbContext.Database.CurrentTransaction is not null || TracksEntities(DbContext))
            throw new InvalidOperationException("CommitAsync is for a unit of work of its own: no transaction open, nothing tracked by EF");

        await using (var transaction = await DbContext.Database.BeginTransactionAsync(cancellationToken))
        {
            await ExecuteAsync(DbContext.Database.CreateBatch(), _rows, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        Committed();
    }

    /// <summary>Drops every pending write of <paramref name="owner"/>: the saga asked for its changes to be undone.</summary>
    internal void Forget(object owner)
    {
        _rows.RemoveAll(row => ReferenceEquals(row, owner));
        _statements.RemoveAll(statement => ReferenceEquals(statement.Owner, owner));
    }

    /// <summary>Writes everything collected, inside the open transaction. A unique violation (the inbox key) surfaces from here.</summary>
    internal async Task WriteAsync(CancellationToken cancellationToken)
    {
        if (TracksEntities(DbContext))
        {
            // The handler changed entities through EF: our rows join its SaveChanges, one batch for all of them.
            DbContext.AddRange(_rows);
            await DbContext.SaveChangesAsync(cancellationToken);
            if (_statements.Count > 0)
                await ExecuteAsync(DbContext.Database.CreateBatch(), [], cancellationToken);
            return;
        }

        await ExecuteAsync(DbContext.Database.CreateBatch(), _rows, cancellationToken);
    }

    async Task ExecuteAsync(NpgsqlBatch batch, IReadOnlyList<object> rows, CancellationToken cancellationToken)
    {
        await using var _ = batch;
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

    /// <summary>Whether the handler loaded or added anything through EF.</summary>
    static bool TracksEntities(DbContext dbContext) => dbContext.ChangeTracker.EntriesAsTracked<object>().Count > 0;

    internal void Committed()
    {
        foreach (var action in _afterCommit)
            action();
    }
}
