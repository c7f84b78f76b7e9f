namespace EventShop.Messaging.Outbox;

/// <summary>
/// Wakes the relay as soon as this process commits outbox rows, so delivery does not wait for the next poll.
/// Rows committed by other processes (or left by a crash) are still found by polling.
/// </summary>
public sealed class OutboxSignal : IDisposable
{
    readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try { _signal.Release(); }
            catch (SemaphoreFullException) { /* already signalled by a concurrent commit */ }
        }
    }

    public void Dispose() => _signal.Dispose();

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
