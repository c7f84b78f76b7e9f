using EventShop.Messaging;
using EventShop.Points.Domain;
using EventShop.Points.Infrastructure.Configurations;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Points.Infrastructure;

public sealed class PointsDbContext(DbContextOptions<PointsDbContext> options) : DbContext(options)
{
    public DbSet<Member> Members => Set<Member>();
    public DbSet<PointsEntry> Ledger => Set<PointsEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema("points");
        modelBuilder.ApplyConfiguration(new MemberConfiguration());
        modelBuilder.ApplyConfiguration(new PointsEntryConfiguration());
        modelBuilder.AddTransactionalMessaging();
    }
}
