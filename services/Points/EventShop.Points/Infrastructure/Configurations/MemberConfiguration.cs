using EventShop.Points.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace EventShop.Points.Infrastructure.Configurations;

sealed class MemberConfiguration : IEntityTypeConfiguration<Member>
{
    public void Configure(EntityTypeBuilder<Member> member)
    {
        member.ToTable("members");
        member.HasKey(x => x.CustomerId);
        member.Property(x => x.CustomerId).HasMaxLength(100);
        member.Property(x => x.Status).HasConversion<string>().HasMaxLength(20);
    }
}
