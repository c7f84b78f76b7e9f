using EventShop.Accounts.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace EventShop.Accounts.Infrastructure.Configurations;

sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> account)
    {
        account.ToTable("accounts", table => table.HasCheckConstraint("ck_customer_balance_not_negative", "\"Kind\" <> 'Customer' OR \"Balance\" >= 0"));
        account.HasKey(x => x.AccountId);
        account.Property(x => x.AccountId).HasMaxLength(100);
        account.Property(x => x.Kind).HasConversion<string>().HasMaxLength(20);
        account.Property(x => x.Status).HasConversion<string>().HasMaxLength(20);
        account.Property(x => x.Balance).HasPrecision(18, 2);
    }
}
