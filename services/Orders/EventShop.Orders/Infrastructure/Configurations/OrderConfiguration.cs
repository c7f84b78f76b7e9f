using EventShop.Orders.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace EventShop.Orders.Infrastructure.Configurations;

sealed class OrderConfiguration : IEntityTypeConfiguration<Order>
{
    public void Configure(EntityTypeBuilder<Order> order)
    {
        order.ToTable("orders");
        order.HasKey(x => x.OrderId);
        order.Property(x => x.OrderId).ValueGeneratedNever();
        order.Property(x => x.CustomerId).HasMaxLength(100);
        order.Property(x => x.MerchantId).HasMaxLength(100);
        order.Property(x => x.Total).HasPrecision(18, 2);
        order.Property(x => x.Status).HasConversion<string>().HasMaxLength(20);
        order.Property(x => x.FailureReason).HasMaxLength(200);
        order.Property(x => x.FailureCode).HasMaxLength(50);
        order.Property(x => x.IdempotencyScope).HasMaxLength(100);
        order.Property(x => x.IdempotencyKey).HasMaxLength(100);
        order.Property(x => x.RequestHash).HasMaxLength(64);
        order.HasIndex(x => new { x.IdempotencyScope, x.IdempotencyKey }).IsUnique();
        order.HasIndex(x => new { x.CustomerId, x.CreatedAt });
        // Only Pending orders are in it, so it stays as small as the orders in flight.
        order.HasIndex(x => x.ReconciledAt).HasFilter("\"Status\" = 'Pending'");

        order.OwnsMany(x => x.Items, item =>
        {
            item.ToTable("order_items");
            item.WithOwner().HasForeignKey("OrderId");
            item.HasKey(x => x.Id);
            item.Property(x => x.Id).UseIdentityAlwaysColumn();
            item.Property(x => x.Sku).HasMaxLength(64);
            item.Property(x => x.UnitPrice).HasPrecision(18, 2);
        });
    }
}
