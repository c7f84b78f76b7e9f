using Microsoft.EntityFrameworkCore.ChangeTracking;

namespace EventShop.Messaging;

static class ChangeTrackerExtensions
{
    /// <summary>
    /// The tracked entries as they are, without the change detection that listing them runs otherwise (a pass over every
    /// tracked entity, once more per message, for callers that only need to know what is tracked or was just saved).
    /// </summary>
    public static List<EntityEntry<TEntity>> EntriesAsTracked<TEntity>(this ChangeTracker changeTracker) where TEntity : class
    {
        var detectChanges = changeTracker.AutoDetectChangesEnabled;
        changeTracker.AutoDetectChangesEnabled = false;
        try
        {
            return [.. changeTracker.Entries<TEntity>()];
        }
        finally
        {
            changeTracker.AutoDetectChangesEnabled = detectChanges;
        }
    }
}
