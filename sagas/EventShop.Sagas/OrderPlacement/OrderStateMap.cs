using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace EventShop.Sagas.OrderPlacement;

sealed class OrderStateMap : IEntityTypeConfiguration<OrderState>
{
    public void Configure(EntityTypeBuilder<OrderState> saga)
    {
        saga.ToTable("order_states");
        saga.HasKey(x => x.CorrelationId);
        saga.Property(x => x.CorrelationId).ValueGeneratedNever();
        saga.Property(x => x.CurrentState).HasMaxLength(64);
        saga.Property(x => x.CustomerId).HasMaxLength(100);
        saga.Property(x => x.MerchantId).HasMaxLength(100);
        saga.Property(x => x.Total).HasPrecision(18, 2);
        saga.Property(x => x.FailureReason).HasMaxLength(200);
        saga.Property(x => x.CompensationFailure).HasMaxLength(200);
        saga.Property(x => x.FailureCode).HasMaxLength(64);
        saga.Property(x => x.FailedCompensation).HasMaxLength(64);
        saga.HasIndex(x => x.CurrentState);
        saga.HasIndex(x => x.StepDeadline).HasFilter("\"StepDeadline\" IS NOT NULL");
    }
}

sealed class OrderSagaTransitionMap : IEntityTypeConfiguration<OrderSagaTransition>
{
    public void Configure(EntityTypeBuilder<OrderSagaTransition> transition)
    {
        transition.ToTable("order_saga_transitions");
        transition.HasKey(x => x.Id);
        transition.Property(x => x.Id).UseIdentityAlwaysColumn();
        transition.Property(x => x.Event).HasMaxLength(64);
        transition.Property(x => x.FromState).HasMaxLength(64);
        transition.Property(x => x.ToState).HasMaxLength(64);
        transition.Property(x => x.Detail).HasMaxLength(200);
        transition.HasIndex(x => x.OrderId);
    }
}

sealed class AuditEntryMap : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> entry)
    {
        entry.ToTable("audit_entries");
        entry.HasKey(x => x.Id);
        entry.Property(x => x.Id).UseIdentityAlwaysColumn();
        entry.Property(x => x.Subject).HasMaxLength(200);
        entry.Property(x => x.Action).HasMaxLength(64);
        entry.Property(x => x.Target).HasMaxLength(300);
        entry.Property(x => x.Service).HasMaxLength(64);
        entry.Property(x => x.Detail).HasMaxLength(1000);
        entry.HasIndex(x => x.OrderId);
        entry.HasIndex(x => x.At);
    }
}

sealed class OrderSagaMessageMap : IEntityTypeConfiguration<Recording.OrderSagaMessage>
{
    public void Configure(EntityTypeBuilder<Recording.OrderSagaMessage> message)
    {
        message.ToTable("order_saga_messages");
        message.HasKey(x => x.Id);
        message.Property(x => x.Id).UseIdentityAlwaysColumn();
        message.Property(x => x.At).HasDefaultValueSql("now()");
        message.Property(x => x.MessageType).HasMaxLength(300);
        message.Property(x => x.Body).HasColumnType("jsonb");
        message.Property(x => x.Headers).HasColumnType("jsonb");
        message.Property(x => x.StateBefore).HasColumnType("jsonb");
        message.Property(x => x.StateAfter).HasColumnType("jsonb");
        message.Property(x => x.Sent).HasColumnType("jsonb");
        message.HasIndex(x => x.OrderId);
        // The retention cleanup deletes by age.
        message.HasIndex(x => x.At);
    }
}
