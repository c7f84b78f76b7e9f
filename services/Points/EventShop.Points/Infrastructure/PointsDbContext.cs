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
    /// Returns the member row locked for this transaction (not tracked by EF), creating an active member on first use, and, when
    /// <paramref name="orderId"/> is given, that order's points entries (at most one per type). One round trip: the
    /// no-op DO UPDATE locks an existing row as FOR UPDATE would, RETURNING hands it back, and the entries are read by a
    /// second statement of the same batch, whose snapshot is taken after the lock is granted.
    /// </summary>
    public async Task<(Member Member, IReadOnlyDictionary<PointsEntryType, PointsEntry> OrderEntries)> LockMemberAsync(
        string customerId, DateTimeOffset now, Guid? orderId, CancellationToken cancellationToken)
    {
        await using var batch = Database.CreateBatch().Add("""
            INSERT INTO points.members ("CustomerId", "Balance", "Status", "UpdatedAt") VALUES ($1, 0, 'Active', $2)
            ON CONFLICT ("CustomerId") DO UPDATE SET "CustomerId" = EXCLUDED."CustomerId"
            RETURNING "Balance", "Status", "UpdatedAt"
            """, customerId, now);
        if (orderId is { } id)
            batch.Add("""SELECT "Id", "Type", "Points", "CreatedAt" FROM points.points_entries WHERE "OrderId" = $1""", id);

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var member = new Member
        {
            CustomerId = customerId, Status = Enum.Parse<MemberStatus>(reader.GetString(1)), UpdatedAt = reader.GetFieldValue<DateTimeOffset>(2),
        };
        // The balance has no public setter (only Member.Post moves it): set through EF's entry, which stays detached.
        Entry(member).Property(x => x.Balance).CurrentValue = reader.GetInt64(0);

        var entries = new Dictionary<PointsEntryType, PointsEntry>();
        if (orderId is not null && await reader.NextResultAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var type = Enum.Parse<PointsEntryType>(reader.GetString(1));
                entries.Add(type, new PointsEntry
                {
                    Id = reader.GetInt64(0), CustomerId = customerId, OrderId = orderId.Value, Type = type,
                    Points = reader.GetInt64(2), CreatedAt = reader.GetFieldValue<DateTimeOffset>(3),
                });
            }
        }

        return (member, entries);
    }

    /// <summary>
    /// Writes a points entry and moves its member's balance by the entry's points in one atomic UPDATE of the row the
    /// handler has locked (<see cref="LockMemberAsync"/>), both in the batch the transactional filter sends after the handler.
    /// </summary>
    public static void Post(MessagingTransaction transaction, PointsEntry entry)
    {
        transaction.Insert(entry);
        transaction.Write(entry, TransactionBatch.Command("""
            UPDATE points.members SET "Balance" = "Balance" + $1, "UpdatedAt" = $2 WHERE "CustomerId" = $3
            """, entry.Points, entry.CreatedAt, entry.CustomerId));
    }
}
