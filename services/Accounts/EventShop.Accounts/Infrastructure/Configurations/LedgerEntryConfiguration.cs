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
        // Per order and step, once; opening entries share OrderId = Guid.Empty, so they are left out here and are
        // unique per account instead.
        entry.HasIndex(x => new { x.OrderId, x.Type }).IsUnique().HasFilter("\"Type\" <> 'Opening'");
        entry.HasIndex(x => x.AccountId, "IX_ledger_entries_AccountId_Opening").IsUnique().HasFilter("\"Type\" = 'Opening'");
        entry.HasIndex(x => x.AccountId);
    }
}
