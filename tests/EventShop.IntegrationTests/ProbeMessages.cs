using EventShop.Messaging;
using EventShop.Messaging.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace EventShop.IntegrationTests;

public sealed record Probe(int Value);

public sealed record WriteProbeRow(Guid RowId, int Value);

public sealed record ProbeRowWritten(Guid RowId);

public sealed record FailAfterWriting(Guid RowId);

public sealed record Increment(Guid CounterId);

/// <summary>An event the counter saga handles without changing anything.</summary>
public sealed record Peek(Guid CounterId);

/// <summary>Counts what reaches it; no database work.</summary>
public sealed class ProbeConsumer(Deliveries deliveries) : IConsumer<Probe>
{
    public Task Consume(ConsumeContext<Probe> context)
    {
        deliveries.Received.Add((context.MessageId!.Value, context.Message.Value));
        return Task.CompletedTask;
    }
}

/// <summary>A business change plus an outgoing event: both must commit together, once per message.</summary>
public sealed class WriteProbeRowConsumer(ProbeDbContext db, UnitOfWork unitOfWork) : IConsumer<WriteProbeRow>
{
    public async Task Consume(ConsumeContext<WriteProbeRow> context)
    {
        unitOfWork.UseChangeTracker();
        var row = await db.Rows.SingleOrDefaultAsync(x => x.Id == context.Message.RowId);
        if (row is null)
            db.Rows.Add(new ProbeRow { Id = context.Message.RowId, Value = context.Message.Value });
        else
            row.Value += context.Message.Value;
        unitOfWork.Publish(new ProbeRowWritten(context.Message.RowId));
    }
}

/// <summary>Writes, publishes, then fails every time: nothing of it may survive.</summary>
public sealed class FailAfterWritingConsumer(ProbeDbContext db, UnitOfWork unitOfWork) : IConsumer<FailAfterWriting>
{
    public async Task Consume(ConsumeContext<FailAfterWriting> context)
    {
        db.Rows.Add(new ProbeRow { Id = context.Message.RowId, Value = 1 });
        await db.SaveChangesAsync();
        unitOfWork.Publish(new ProbeRowWritten(context.Message.RowId));
        throw new InvalidOperationException("poison: this message always fails");
    }
}

public sealed class ProbeRowWrittenConsumer(Deliveries deliveries) : IConsumer<ProbeRowWritten>
{
    public Task Consume(ConsumeContext<ProbeRowWritten> context)
    {
        deliveries.Received.Add((context.MessageId!.Value, 0));
        return Task.CompletedTask;
    }
}

public sealed class CounterState : SagaStateMachineInstance
{
    public Guid CorrelationId { get; set; }
    public string CurrentState { get; set; } = "";
    public int Count { get; set; }
}

/// <summary>A minimal saga whose only job is to show that concurrent events for one instance never lose an update.</summary>
public sealed class CounterStateMachine : MassTransitStateMachine<CounterState>
{
    public CounterStateMachine()
    {
        Event(() => Incremented, e => e.CorrelateById(m => m.Message.CounterId));
        Event(() => Peeked, e => e.CorrelateById(m => m.Message.CounterId));
        InstanceState(x => x.CurrentState);

        Initially(When(Incremented).Then(context => context.Saga.Count++).TransitionTo(Counting));
        During(Counting,
            When(Incremented).Then(context => context.Saga.Count++),
            When(Peeked).Then(_ => { }));
    }

    public State Counting { get; private set; } = null!;
    public Event<Increment> Incremented { get; private set; } = null!;
    public Event<Peek> Peeked { get; private set; } = null!;
}

public sealed class CounterStateDefinition : SagaDefinition<CounterState>
{
    public CounterStateDefinition() => ConcurrentMessageLimit = 16;
}

public sealed record InsertProbeRow(Guid RowId, int Value);

/// <summary>Inserts a row and bumps it by a statement; <see cref="BumpRowId"/> names the row to bump (another one: the statement then fails).</summary>
public sealed record AddAndBumpProbeRow(Guid RowId, Guid BumpRowId);

/// <summary>Writes through the unit of work only, no EF: its rows go as one batch of plain statements.</summary>
public sealed class InsertProbeRowConsumer(UnitOfWork unitOfWork) : IConsumer<InsertProbeRow>
{
    public Task Consume(ConsumeContext<InsertProbeRow> context)
    {
        unitOfWork.Insert(new ProbeRow { Id = context.Message.RowId, Value = context.Message.Value });
        unitOfWork.Publish(new ProbeRowWritten(context.Message.RowId));
        return Task.CompletedTask;
    }
}

/// <summary>Adds an entity through EF and queues a statement: EF's SaveChanges runs first, then the statement.</summary>
public sealed class AddAndBumpProbeRowConsumer(ProbeDbContext db, UnitOfWork unitOfWork) : IConsumer<AddAndBumpProbeRow>
{
    public Task Consume(ConsumeContext<AddAndBumpProbeRow> context)
    {
        unitOfWork.UseChangeTracker();
        var row = new ProbeRow { Id = context.Message.RowId, Value = 1 };
        db.Rows.Add(row);
        unitOfWork.Write(row, Sql.Command("""UPDATE probe."Rows" SET "Value" = "Value" + 10 WHERE "Id" = $1""", context.Message.BumpRowId));
        return Task.CompletedTask;
    }
}

public sealed record AddThroughEfUnannounced(Guid RowId);

/// <summary>Changes an entity through EF without choosing the change tracker: a mistake the unit of work must refuse, not drop.</summary>
public sealed class AddThroughEfUnannouncedConsumer(ProbeDbContext db, UnitOfWork unitOfWork) : IConsumer<AddThroughEfUnannounced>
{
    public Task Consume(ConsumeContext<AddThroughEfUnannounced> context)
    {
        db.Rows.Add(new ProbeRow { Id = context.Message.RowId, Value = 1 });
        unitOfWork.Publish(new ProbeRowWritten(context.Message.RowId));
        return Task.CompletedTask;
    }
}
