using EventShop.Messaging.Inbox;
using EventShop.Messaging.Outbox;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Messaging;

public static class MessagingModel
{
    public const string Schema = "messaging";

    /// <summary>Adds the outbox and inbox tables to a service's own DbContext, so they share its transactions and migrations.</summary>
    public static ModelBuilder AddTransactionalMessaging(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<OutboxMessage>(outbox =>
        {
            outbox.ToTable("outbox_messages", Schema);
            outbox.HasKey(x => x.Id);
            outbox.Property(x => x.Id).UseIdentityAlwaysColumn();
            outbox.Property(x => x.MessageType).HasMaxLength(300);
            outbox.Property(x => x.Body).HasColumnType("jsonb");
            outbox.Property(x => x.DestinationAddress).HasMaxLength(500);
            outbox.Property(x => x.TraceParent).HasMaxLength(100);
            // Stamped by the database, not by the committing process: the relays of every replica compare it with now()
            // (PollGrace), and a writer with a skewed clock must not make its rows look older or younger (ADR 0008).
            outbox.Property(x => x.CreatedAt).HasDefaultValueSql("now()");
        });

        modelBuilder.Entity<InboxMessage>(inbox =>
        {
            inbox.ToTable("inbox_messages", Schema);
            inbox.HasKey(x => new { x.Consumer, x.MessageId }).HasName(InboxMessage.KeyName);
            inbox.Property(x => x.Consumer).HasMaxLength(200);
            inbox.Property(x => x.MessageType).HasMaxLength(300);
            // The database's clock too: retention deletes by now() - ProcessedAt (ADR 0008).
            inbox.Property(x => x.ProcessedAt).HasDefaultValueSql("now()");
            inbox.HasIndex(x => x.ProcessedAt);
        });

        return modelBuilder;
    }
}
