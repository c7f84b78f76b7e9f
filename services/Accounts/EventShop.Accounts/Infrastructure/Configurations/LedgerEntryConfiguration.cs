using EventShop.Accounts.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace EventShop.Accounts.Infrastructure.Configurations;

sealed class LedgerEntryConfiguration : IEntityTypeConfiguration<LedgerEntry>
{
    public void Configure(EntityTypeBuilder<LedgerEntry> entry)
    {
        entry.ToTable("ledger_entries");
        entry.HasKey(x => x.Id);
        entry.Property(x => x.Id).UseIdentityAlwaysColumn();
        entry.Property(x => x.AccountId).HasMaxLength(100);
        entry.Property(x => x.Type).HasConversion<string>().HasMaxLength(30);
        entry.Property(x => x.Amount).HasPrecision(18, 2);
        entry.HasIndex(x => new { x.OrderId, x.Type }).IsUnique();
        entry.HasIndex(x => x.AccountId);
    }
}
