using Microsoft.EntityFrameworkCore;

namespace EventShop.Messaging.Inbox;

/// <summary>Names the service's own DbContext for the generic transactional filter (scoped: the consumer gets the same instance).</summary>
public sealed class ServiceDbContext(DbContext dbContext)
{
    public DbContext DbContext { get; } = dbContext;
}
