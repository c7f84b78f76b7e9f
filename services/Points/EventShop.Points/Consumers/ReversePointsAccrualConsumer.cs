using EventShop.Contracts.Points;
using EventShop.Messaging;
using EventShop.Points.Domain;
using EventShop.Points.Infrastructure;
using MassTransit;

namespace EventShop.Points.Consumers;

/// <summary>Never fails for a business reason: reverses the order's accrual (even for a suspended member), or voids it if it has not arrived.</summary>
public sealed class ReversePointsAccrualConsumer(PointsDbContext db, TimeProvider clock) : IConsumer<ReversePointsAccrual>
{
    public async Task Consume(ConsumeContext<ReversePointsAccrual> context)
    {
        var command = context.Message;
        var now = clock.GetUtcNow();
        var (member, entries) = await db.LockMemberAsync(command.CustomerId, now, command.OrderId, context.CancellationToken);
        var reversal = entries.GetValueOrDefault(PointsEntryType.Reversal);
        var accrual = entries.GetValueOrDefault(PointsEntryType.Accrual);
        if (reversal is null && accrual is not null)
        {
            reversal = member.Post(command.OrderId, PointsEntryType.Reversal, -accrual.Points, now);
            PointsDbContext.Post(context.GetPayload<MessagingTransaction>(), reversal);
        }
        else if (accrual is null && !entries.ContainsKey(PointsEntryType.AccrualVoided))
        {
            db.Ledger.Add(new PointsEntry { CustomerId = command.CustomerId, OrderId = command.OrderId, Type = PointsEntryType.AccrualVoided, CreatedAt = now });
        }

        await context.Publish(new PointsAccrualReversed(command.OrderId, command.CustomerId, -(reversal?.Points ?? 0)));
    }
}
