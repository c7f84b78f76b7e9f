using EventShop.Contracts.Points;
using EventShop.Messaging;
using EventShop.Points.Domain;
using EventShop.Points.Infrastructure;
using MassTransit;

namespace EventShop.Points.Consumers;

public sealed class AccruePointsConsumer(MemberBook book, UnitOfWork unitOfWork, TimeProvider clock) : IConsumer<AccruePoints>
{
    public async Task Consume(ConsumeContext<AccruePoints> context)
    {
        var command = context.Message;
        var (member, entries) = await book.LockMemberForOrderAsync(command.CustomerId, command.OrderId, context.CancellationToken);

        var rejection = member.RejectAccrual(entries);
        if (rejection is null && !entries.ContainsKey(PointsEntryType.Accrual))
            book.Post(member.Post(command.OrderId, PointsEntryType.Accrual, command.Points, clock.GetUtcNow()));

        if (rejection is null)
            unitOfWork.Publish(new PointsAccrued(command.OrderId, command.CustomerId, command.Points));
        else
            unitOfWork.Publish(new PointsAccrualRejected(command.OrderId, command.CustomerId, rejection));
    }
}
