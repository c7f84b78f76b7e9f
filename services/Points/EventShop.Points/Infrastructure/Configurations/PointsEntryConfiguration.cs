using EventShop.Points.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace EventShop.Points.Infrastructure.Configurations;

sealed class PointsEntryConfiguration : IEntityTypeConfiguration<PointsEntry>
{
    public void Configure(EntityTypeBuilder<PointsEntry> entry)
    {
        entry.ToTable("points_entries");
        entry.HasKey(x => x.Id);
        entry.Property(x => x.Id).UseIdentityAlwaysColumn();
        entry.Property(x => x.CustomerId).HasMaxLength(100);
        entry.Property(x => x.Type).HasConversion<string>().HasMaxLength(30);
        entry.HasIndex(x => new { x.OrderId, x.Type }).IsUnique();
        entry.HasIndex(x => x.CustomerId);
    }
}
