using EventShop.Messaging;
using EventShop.Messaging.Storage;
using EventShop.Points.Domain;

namespace EventShop.Points.Infrastructure;

/// <summary>
/// The loyalty members and their points ledger as the handlers see them, through the <see cref="UnitOfWork"/>: a member's
/// row is locked before anything is decided for it, and its balance moves only by posting entries. Nothing is tracked by EF.
/// </summary>
public sealed class MemberBook(UnitOfWork unitOfWork, TimeProvider clock)
{
    /// <summary>The member's row, locked until the transaction ends; an active member with no points is created on first use.</summary>
    public async Task<Member> LockMemberAsync(string customerId, CancellationToken cancellationToken)
    {
        var batch = LockMember(customerId, out var member);
        await batch.ExecuteAsync(cancellationToken);
        return member.Row!;
    }

    /// <summary>The member's row, locked as <see cref="LockMemberAsync"/> does, and the order's points entries (at most one per type).</summary>
    public async Task<(Member Member, IReadOnlyDictionary<PointsEntryType, PointsEntry> OrderEntries)> LockMemberForOrderAsync(
        string customerId, Guid orderId, CancellationToken cancellationToken)
    {
        var batch = LockMember(customerId, out var member);
        // Read after the lock is granted (each statement of a batch has its own snapshot): it sees the previous holder's entries.
        var entries = batch.Where<PointsEntry>("""
            "OrderId" = $1
            """, orderId);
        await batch.ExecuteAsync(cancellationToken);
        return (member.Row!, entries.Rows.ToDictionary(entry => entry.Type));
    }

    /// <summary>
    /// Writes a points entry and moves its member's balance by the entry's points in one atomic UPDATE of the row the handler
    /// has locked, both with the unit of work's other writes.
    /// </summary>
    public void Post(PointsEntry entry)
    {
        unitOfWork.Insert(entry);
        unitOfWork.Write(entry, Sql.Command("""
            UPDATE points.members SET "Balance" = "Balance" + $1, "UpdatedAt" = $2 WHERE "CustomerId" = $3
            """, entry.Points, entry.CreatedAt, entry.CustomerId));
    }

    /// <summary>Records that an accrual was reversed before it arrived (ADR 0004): a late accrual is then rejected.</summary>
    public void VoidAccrual(string customerId, Guid orderId) =>
        unitOfWork.Insert(new PointsEntry
        {
            CustomerId = customerId, OrderId = orderId, Type = PointsEntryType.AccrualVoided, CreatedAt = clock.GetUtcNow(),
        });

    /// <summary>Inserts the member if absent (a concurrent first insert waits for the other to commit), then locks its row.</summary>
    RowBatch LockMember(string customerId, out RowSet<Member> member)
    {
        var batch = unitOfWork.Batch()
            .InsertIfAbsent(new Member { CustomerId = customerId, Status = MemberStatus.Active, UpdatedAt = clock.GetUtcNow() });
        member = batch.Lock<Member>(customerId);
        return batch;
    }
}
