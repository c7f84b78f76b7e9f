using System.Collections.Concurrent;

namespace EventShop.Dashboard.Failures;

/// <summary>A group retry and how it went: which messages were sent back, and which of them have failed again since.</summary>
public sealed record RetryBatch(string Id, string Group, DateTimeOffset At, string Subject, IReadOnlyList<string> MessageIds, int Failed);

/// <summary>
/// Recent group retries, in this dashboard process's memory: enough to show an operator the progress of what they just
/// started (ADR 0016); the audit trail keeps the lasting record. A retried message keeps its message id, so one that
/// fails again is recognised in the error queues.
/// </summary>
public sealed class RetryBatches
{
    const int Kept = 100;
    readonly ConcurrentDictionary<string, RetryBatch> _batches = new(StringComparer.Ordinal);

    public RetryBatch Add(string group, string subject, IReadOnlyList<string> messageIds, int failed, DateTimeOffset at)
    {
        var batch = new RetryBatch(Guid.NewGuid().ToString("N"), group, at, subject, messageIds, failed);
        _batches[batch.Id] = batch;
        foreach (var old in _batches.Values.OrderByDescending(x => x.At).Skip(Kept))
            _batches.TryRemove(old.Id, out _);
        return batch;
    }

    public RetryBatch? Find(string id) => _batches.GetValueOrDefault(id);
}
