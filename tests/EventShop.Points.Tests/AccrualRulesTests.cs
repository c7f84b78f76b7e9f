using EventShop.Contracts;
using EventShop.Points.Domain;

namespace EventShop.Points.Tests;

/// <summary>When a member earns an order's points (Member.RejectAccrual), and what earning and reversing do (Member.Post).</summary>
public sealed class AccrualRulesTests
{
    static readonly Guid OrderId = Guid.NewGuid();
    static readonly DateTimeOffset Now = new(2026, 12, 2, 7, 0, 0, TimeSpan.Zero);

    static Member Member(MemberStatus status = MemberStatus.Active) => new() { CustomerId = "alice", Status = status, UpdatedAt = Now };

    static Dictionary<PointsEntryType, PointsEntry> Entries(params PointsEntryType[] types) =>
        types.ToDictionary(type => type, type => new PointsEntry { CustomerId = "alice", OrderId = OrderId, Type = type, CreatedAt = Now });

    [Fact]
    public void When_the_member_is_active_Should_accept()
    {
        Assert.Null(Member().RejectAccrual(Entries()));
    }

    [Fact]
    public void When_the_member_is_suspended_Should_reject_with_MemberSuspended()
    {
        Assert.Equal(RejectionReasons.MemberSuspended, Member(MemberStatus.Suspended).RejectAccrual(Entries()));
    }

    [Fact]
    public void When_the_reversal_came_first_Should_reject_with_Voided()
    {
        Assert.Equal(RejectionReasons.Voided, Member().RejectAccrual(Entries(PointsEntryType.AccrualVoided)));
        Assert.Equal(RejectionReasons.Voided, Member(MemberStatus.Suspended).RejectAccrual(Entries(PointsEntryType.AccrualVoided)));
    }

    [Fact]
    public void When_the_order_already_earned_its_points_Should_accept_the_repeat_even_if_suspended_since()
    {
        Assert.Null(Member(MemberStatus.Suspended).RejectAccrual(Entries(PointsEntryType.Accrual)));
    }

    [Fact]
    public void Posting_an_accrual_raises_the_balance_and_returns_the_ledger_line_that_explains_it()
    {
        var member = Member();
        var later = Now.AddMinutes(1);

        var entry = member.Post(OrderId, PointsEntryType.Accrual, 25, later);

        Assert.Equal(25, member.Balance);
        Assert.Equal(later, member.UpdatedAt);
        Assert.Equal(("alice", OrderId, PointsEntryType.Accrual, 25L, later),
            (entry.CustomerId, entry.OrderId, entry.Type, entry.Points, entry.CreatedAt));
    }

    [Fact]
    public void Posting_the_reversal_of_an_accrual_takes_back_exactly_its_points()
    {
        var member = Member();
        member.Post(Guid.NewGuid(), PointsEntryType.Accrual, 7, Now);
        var accrual = member.Post(OrderId, PointsEntryType.Accrual, 25, Now);

        var reversal = member.Post(OrderId, PointsEntryType.Reversal, -accrual.Points, Now);

        Assert.Equal(-25, reversal.Points);
        Assert.Equal(7, member.Balance);
    }
}
