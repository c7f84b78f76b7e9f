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

    /// <summary>
    /// Returns the member row locked for this transaction, creating an active member on first use. One statement: the
    /// no-op DO UPDATE locks an existing row as FOR UPDATE would, and RETURNING hands it back (no second round trip).
    /// </summary>
    public async Task<Member> LockMemberAsync(string customerId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Not composed with further operators: EF runs the statement as written (an INSERT cannot be wrapped in a subquery).
        // Not a compiled query either: EF's compiled queries do not support FromSql with parameters reliably.
        var members = await Members.FromSql($"""
            INSERT INTO points.members ("CustomerId", "Balance", "Status", "UpdatedAt") VALUES ({customerId}, 0, 'Active', {now})
            ON CONFLICT ("CustomerId") DO UPDATE SET "CustomerId" = EXCLUDED."CustomerId"
            RETURNING *
            """).ToListAsync(cancellationToken);
        return members.Single();
    }

    /// <summary>Every points entry of one order (at most one per type), read once per message.</summary>
    public async Task<IReadOnlyDictionary<PointsEntryType, PointsEntry>> OrderEntriesAsync(Guid orderId, CancellationToken cancellationToken)
    {
        var entries = new Dictionary<PointsEntryType, PointsEntry>();
        await foreach (var entry in OrderEntriesQuery(this, orderId).WithCancellation(cancellationToken))
            entries.Add(entry.Type, entry);
        return entries;
    }

    // Compiled once: every message runs it, and a LINQ query otherwise pays for parameter extraction, hashing the
    // expression tree and a cache lookup on each call (docs/benchmark.md).
    static readonly Func<PointsDbContext, Guid, IAsyncEnumerable<PointsEntry>> OrderEntriesQuery =
        EF.CompileAsyncQuery((PointsDbContext db, Guid orderId) => db.Ledger.Where(x => x.OrderId == orderId));
}
