using System.Collections.Concurrent;

namespace EventShop.Messaging.Outbox;

/// <summary>
/// Hands the outbox rows this process has just committed to its relay, which publishes them from memory at once: no poll
/// to wait for and no query to read them back. The rows stay in the table until the broker has confirmed them, so a crash
/// before that loses nothing; the relay's poll finds them (and rows committed by other processes).
/// </summary>
public sealed class OutboxSignal : IDisposable
{
    readonly SemaphoreSlim _signal = new(0, 1);
    readonly ConcurrentQueue<OutboxMessage> _committed = new();
    readonly ConcurrentDictionary<long, byte> _inFlight = new();
    readonly ConcurrentDictionary<long, Action> _onPublished = new();
    int _queued;

    /// <summary>Beyond this many rows waiting in memory (the broker has been away a while) rows are left to the poll alone.</summary>
    public const int MaxQueued = 10_000;

    /// <summary>
    /// Called by <see cref="UnitOfWork"/> once the transaction that wrote <paramref name="rows"/> has committed (never
    /// before: a rollback must send nothing); rows without a database id were not written.
    /// </summary>
    internal void Committed(IReadOnlyList<OutboxMessage> rows)
    {
        var any = false;
        foreach (var row in rows)
        {
            if (row.Id == 0)
                continue;
            any = true;
            if (Volatile.Read(ref _queued) >= MaxQueued)
                continue;
            _inFlight.TryAdd(row.Id, 0);
            _committed.Enqueue(row);
            Interlocked.Increment(ref _queued);
        }

        if (any)
            Notify();
    }

    void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try { _signal.Release(); }
            catch (SemaphoreFullException) { /* already signalled by a concurrent commit */ }
        }
    }

    public void Dispose() => _signal.Dispose();

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    /// <summary>Takes up to <paramref name="max"/> committed rows handed over by this process.</summary>
    internal List<OutboxMessage> TakeCommitted(int max)
    {
        var rows = new List<OutboxMessage>();
        while (rows.Count < max && _committed.TryDequeue(out var row))
        {
            Interlocked.Decrement(ref _queued);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Runs <paramref name="action"/> on the relay's thread once one of the rows is confirmed, before it is deleted (fault injection, ADR 0014).</summary>
    internal void OnPublished(IEnumerable<long> ids, Action action)
    {
        foreach (var id in ids)
            _onPublished[id] = action;
    }

    /// <summary>The relay has the broker's confirm for these rows and has not deleted them yet.</summary>
    internal void Published(IEnumerable<long> ids)
    {
        if (_onPublished.IsEmpty)
            return;
        foreach (var id in ids)
        {
            if (_onPublished.TryRemove(id, out var action))
                action();
        }
    }

    internal bool HasCommitted => !_committed.IsEmpty;

    /// <summary>Ids this process is publishing from memory: its own poll leaves them alone.</summary>
    internal long[] InFlight() => [.. _inFlight.Keys];

    /// <summary>The rows are no longer this process's to publish from memory: deleted, or left to the poll after a failure.</summary>
    internal void Released(IEnumerable<long> ids)
    {
        foreach (var id in ids)
            _inFlight.TryRemove(id, out _);
    }
}
