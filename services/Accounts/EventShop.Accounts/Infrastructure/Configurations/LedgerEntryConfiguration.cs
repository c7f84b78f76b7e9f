using EventShop.Accounts.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace EventShop.Accounts.Infrastructure.Configurations;

sealed class LedgerEntryConfiguration : IEntityTypeConfiguration<LedgerEntry>
{
    public void Configure(EntityTypeBuilder<LedgerEntry> entry)
    {
        // Money that enters or leaves from outside an order has an origin: an adjustment without its author or reason is refused.
        entry.ToTable("ledger_entries", table => table.HasCheckConstraint("ck_adjustment_has_author_and_reason",
            "\"Type\" <> 'Adjustment' OR (\"Author\" IS NOT NULL AND \"Reason\" IS NOT NULL)"));
        entry.HasKey(x => x.Id);
        entry.Property(x => x.Id).UseIdentityAlwaysColumn();
        entry.Property(x => x.AccountId).HasMaxLength(100);
        entry.Property(x => x.Type).HasConversion<string>().HasMaxLength(30);
        entry.Property(x => x.Amount).HasPrecision(18, 2);
        entry.Property(x => x.Author).HasMaxLength(100);
        entry.Property(x => x.Reason).HasMaxLength(500);
        entry.Property(x => x.IdempotencyKey).HasMaxLength(100);
        // Per order and step, once; opening entries and adjustments share OrderId = Guid.Empty, so they are left out here:
        // an opening is unique per account, an adjustment per author and Idempotency-Key.
        entry.HasIndex(x => new { x.OrderId, x.Type }).IsUnique().HasFilter("\"Type\" NOT IN ('Opening', 'Adjustment')");
        entry.HasIndex(x => x.AccountId, "IX_ledger_entries_AccountId_Opening").IsUnique().HasFilter("\"Type\" = 'Opening'");
        entry.HasIndex(x => new { x.Author, x.IdempotencyKey }).IsUnique().HasFilter("\"IdempotencyKey\" IS NOT NULL");
        entry.HasIndex(x => x.AccountId);
    }
}
