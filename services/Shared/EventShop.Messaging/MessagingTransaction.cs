using Microsoft.EntityFrameworkCore;

namespace EventShop.Messaging;

/// <summary>
/// Carried as a payload on the consume context while a message is handled inside a service's database transaction:
/// the saga repository and state observers find the DbContext through it, so everything commits once.
/// </summary>
public sealed class MessagingTransaction(DbContext dbContext)
{
    readonly List<Action> _afterCommit = [];

    public DbContext DbContext { get; } = dbContext;

    /// <summary>Runs <paramref name="action"/> once the transaction has committed (never if it rolls back), e.g. to wake waiting HTTP requests.</summary>
    public void OnCommitted(Action action) => _afterCommit.Add(action);

    internal void Committed()
    {
        foreach (var action in _afterCommit)
            action();
    }
}
