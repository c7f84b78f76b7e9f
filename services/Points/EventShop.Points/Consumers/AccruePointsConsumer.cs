using EventShop.Contracts;
using EventShop.Contracts.Points;
using EventShop.Messaging;
using EventShop.Points.Domain;
using EventShop.Points.Infrastructure;
using MassTransit;

namespace EventShop.Points.Consumers;

public sealed class AccruePointsConsumer(PointsDbContext db, TimeProvider clock) : IConsumer<AccruePoints>
{
    public async Task Consume(ConsumeContext<AccruePoints> context)
    {
        var command = context.Message;
        var (member, entries) = await db.LockMemberAsync(command.CustomerId, clock.GetUtcNow(), command.OrderId, context.CancellationToken);

        var rejection = member.RejectAccrual(entries);
        if (rejection is null && !entries.ContainsKey(PointsEntryType.Accrual))
        {
            var accrual = member.Post(command.OrderId, PointsEntryType.Accrual, command.Points, clock.GetUtcNow());
            PointsDbContext.Post(context.GetPayload<MessagingTransaction>(), accrual);
        }

        if (rejection is null)
            await context.Publish(new PointsAccrued(command.OrderId, command.CustomerId, command.Points));
        else
            await context.Publish(new PointsAccrualRejected(command.OrderId, command.CustomerId, rejection));
    }
}
