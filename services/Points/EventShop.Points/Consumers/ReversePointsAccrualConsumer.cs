using EventShop.Contracts.Points;
using EventShop.Messaging;
using EventShop.Points.Domain;
using EventShop.Points.Infrastructure;
using MassTransit;

namespace EventShop.Points.Consumers;

/// <summary>Never fails for a business reason: reverses the order's accrual (even for a suspended member), or voids it if it has not arrived.</summary>
public sealed class ReversePointsAccrualConsumer(MemberBook book, UnitOfWork unitOfWork, TimeProvider clock) : IConsumer<ReversePointsAccrual>
{
    public async Task Consume(ConsumeContext<ReversePointsAccrual> context)
    {
        var command = context.Message;
        var (member, entries) = await book.LockMemberForOrderAsync(command.CustomerId, command.OrderId, context.CancellationToken);
        var reversal = entries.GetValueOrDefault(PointsEntryType.Reversal);
        var accrual = entries.GetValueOrDefault(PointsEntryType.Accrual);
        if (reversal is null && accrual is not null)
        {
            reversal = member.Post(command.OrderId, PointsEntryType.Reversal, -accrual.Points, clock.GetUtcNow());
            book.Post(reversal);
        }
        else if (accrual is null && !entries.ContainsKey(PointsEntryType.AccrualVoided))
        {
            book.VoidAccrual(command.CustomerId, command.OrderId);
        }

        unitOfWork.Publish(new PointsAccrualReversed(command.OrderId, command.CustomerId, -(reversal?.Points ?? 0)));
    }
}
