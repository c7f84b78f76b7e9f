using EventShop.Messaging;
using EventShop.Sagas.OrderPlacement;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Sagas.Infrastructure;

public sealed class SagasDbContext(DbContextOptions<SagasDbContext> options) : DbContext(options)
{
    public DbSet<OrderState> OrderStates => Set<OrderState>();
    public DbSet<OrderSagaTransition> Transitions => Set<OrderSagaTransition>();
    public DbSet<AuditEntry> Audit => Set<AuditEntry>();
    public DbSet<Recording.OrderSagaMessage> RecordedMessages => Set<Recording.OrderSagaMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema("sagas");
        modelBuilder.ApplyConfiguration(new OrderStateMap());
        modelBuilder.ApplyConfiguration(new OrderSagaTransitionMap());
        modelBuilder.ApplyConfiguration(new AuditEntryMap());
        modelBuilder.ApplyConfiguration(new OrderSagaMessageMap());
        modelBuilder.AddTransactionalMessaging();
    }
}
