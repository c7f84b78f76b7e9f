using EventShop.Messaging;
using EventShop.Points.Domain;
using EventShop.Points.Infrastructure.Configurations;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Points.Infrastructure;

public sealed class PointsDbContext(DbContextOptions<PointsDbContext> options) : DbContext(options)
{
    public DbSet<Member> Members => Set<Member>();
    public DbSet<PointsEntry> Ledger => Set<PointsEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema("points");
        modelBuilder.ApplyConfiguration(new MemberConfiguration());
        modelBuilder.ApplyConfiguration(new PointsEntryConfiguration());
        modelBuilder.AddTransactionalMessaging();
    }

    /// <summary>Returns the member row locked for this transaction, creating an active member on first use.</summary>
    public async Task<Member> LockMemberAsync(string customerId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await Database.ExecuteSqlAsync(
            $"INSERT INTO points.members (\"CustomerId\", \"Balance\", \"Status\", \"UpdatedAt\") VALUES ({customerId}, 0, 'Active', {now}) ON CONFLICT DO NOTHING",
            cancellationToken);
        return await Members.FromSql($"SELECT * FROM points.members WHERE \"CustomerId\" = {customerId} FOR UPDATE").SingleAsync(cancellationToken);
    }

    /// <summary>Every points entry of one order (at most one per type), read once per message.</summary>
    public async Task<IReadOnlyDictionary<PointsEntryType, PointsEntry>> OrderEntriesAsync(Guid orderId, CancellationToken cancellationToken) =>
        await Ledger.Where(x => x.OrderId == orderId).ToDictionaryAsync(x => x.Type, cancellationToken);
}
