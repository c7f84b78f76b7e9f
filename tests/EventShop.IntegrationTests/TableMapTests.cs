using System.Text.Json.Nodes;
using EventShop.Messaging;
using EventShop.Messaging.Inbox;
using EventShop.Messaging.Outbox;
using EventShop.Messaging.Storage;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore;
using MassTransit;
using Npgsql;

namespace EventShop.IntegrationTests;

/// <summary>The statements our messaging code writes without EF's change tracker write and read the rows EF would.</summary>
public sealed class TableMapTests : IClassFixture<IsolatedInfrastructure>, IAsyncLifetime, IDisposable
{
    readonly ProbeDbContext _db;

    public TableMapTests(IsolatedInfrastructure infrastructure) =>
        _db = new ProbeDbContext(new DbContextOptionsBuilder<ProbeDbContext>().UseNpgsql(infrastructure.ConnectionString).Options);

    public Task InitializeAsync() => _db.Database.EnsureCreatedAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task Insert_Should_write_what_EF_reads_back_and_set_the_generated_key()
    {
        var map = TableMap.For(_db, typeof(MappedProbe));
        var probe = NewProbe();

        await InTransactionAsync(async () =>
        {
            var insert = map.Insert(probe);
            await using var reader = await BatchOf(insert).ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            map.ReadGenerated(reader, probe);
        });

        Assert.True(probe.Id > 0);
        var stored = await _db.MappedProbes.AsNoTracking().SingleAsync(x => x.Id == probe.Id);
        AssertSame(probe, stored);
        // Through the converter: the enum is stored by name, as EF's configuration says.
        Assert.Equal("Special", await ScalarAsync<string>($"SELECT kind_name AS \"Value\" FROM probe.mapped_probes WHERE \"Id\" = {probe.Id}"));
    }

    [Fact]
    public async Task Read_update_and_delete_Should_round_trip_every_column()
    {
        var map = TableMap.For(_db, typeof(MappedProbe));
        var probe = NewProbe();
        _db.MappedProbes.Add(probe);
        await _db.SaveChangesAsync();
        _db.ChangeTracker.Clear();

        MappedProbe loaded = null!;
        await InTransactionAsync(async () =>
        {
            await using var reader = await BatchOf(map.SelectForUpdate(probe.Id)).ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            loaded = (MappedProbe)map.Read(reader);
        });
        AssertSame(probe, loaded);

        var snapshot = map.Snapshot(loaded);
        Assert.False(map.HasChanged(loaded, snapshot));
        loaded.Kind = ProbeKind.Plain;
        loaded.At = null;
        loaded.Note = "changed";
        Assert.True(map.HasChanged(loaded, snapshot));

        await InTransactionAsync(async () =>
        {
            var update = map.Update(loaded);
            await BatchOf(update).ExecuteNonQueryAsync();
            Assert.Equal(1, update.RecordsAffected);
        });
        AssertSame(loaded, await _db.MappedProbes.AsNoTracking().SingleAsync(x => x.Id == probe.Id));

        await InTransactionAsync(async () =>
        {
            var delete = map.Delete(loaded);
            await BatchOf(delete).ExecuteNonQueryAsync();
            Assert.Equal(1, delete.RecordsAffected);
        });
        Assert.False(await _db.MappedProbes.AnyAsync(x => x.Id == probe.Id));
    }

    [Fact]
    public async Task InsertIfAbsent_Should_report_an_existing_key_without_failing_the_transaction()
    {
        var map = TableMap.For(_db, typeof(CounterState));
        var counter = new CounterState { CorrelationId = Guid.NewGuid(), CurrentState = "Counting", Count = 1 };

        await InTransactionAsync(async () =>
        {
            var first = map.InsertIfAbsent(counter);
            var second = map.InsertIfAbsent(new CounterState { CorrelationId = counter.CorrelationId, CurrentState = "Other", Count = 9 });
            await BatchOf(first, second).ExecuteNonQueryAsync();
            Assert.Equal(1, first.RecordsAffected);
            Assert.Equal(0, second.RecordsAffected);
        });

        var stored = await _db.Counters.AsNoTracking().SingleAsync(x => x.CorrelationId == counter.CorrelationId);
        Assert.Equal(("Counting", 1), (stored.CurrentState, stored.Count));
    }

    [Fact]
    public async Task A_unit_of_work_Should_read_one_row_and_lock_it_only_when_asked_inside_its_transaction()
    {
        var probe = NewProbe();
        _db.MappedProbes.Add(probe);
        await _db.SaveChangesAsync();
        _db.ChangeTracker.Clear();
        await using var unitOfWork = new UnitOfWork(_db, new OutboxSignal());

        AssertSame(probe, (await unitOfWork.ReadAsync<MappedProbe>(probe.Id, CancellationToken.None))!);
        Assert.Null(await unitOfWork.ReadAsync<MappedProbe>(probe.Id + 1_000_000, CancellationToken.None));
        Assert.Empty(_db.ChangeTracker.Entries());
        await Assert.ThrowsAsync<InvalidOperationException>(() => unitOfWork.LockAsync<MappedProbe>(probe.Id, CancellationToken.None));

        await using var other = new NpgsqlConnection(_db.Database.GetConnectionString());
        await other.OpenAsync();
        var lockedElsewhere = $"""SELECT 1 FROM probe.mapped_probes WHERE "Id" = {probe.Id} FOR UPDATE NOWAIT""";
        await unitOfWork.BeginAsync(CancellationToken.None);
        await unitOfWork.ReadAsync<MappedProbe>(probe.Id, CancellationToken.None);
        await new NpgsqlCommand(lockedElsewhere, other).ExecuteScalarAsync(); // not locked: no error

        AssertSame(probe, (await unitOfWork.LockAsync<MappedProbe>(probe.Id, CancellationToken.None))!);
        var locked = await Assert.ThrowsAsync<PostgresException>(() => new NpgsqlCommand(lockedElsewhere, other).ExecuteScalarAsync());
        Assert.Equal(PostgresErrorCodes.LockNotAvailable, locked.SqlState);
        await unitOfWork.CommitAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_row_batch_Should_read_rows_by_condition_and_by_key_in_one_round_trip()
    {
        var first = NewProbe();
        var second = NewProbe();
        _db.MappedProbes.AddRange(first, second);
        await _db.SaveChangesAsync();
        _db.ChangeTracker.Clear();
        await using var unitOfWork = new UnitOfWork(_db, new OutboxSignal());
        await unitOfWork.BeginAsync(CancellationToken.None);

        // An insert without RETURNING has no result set, a lock's SELECT has one: the reads must still get their own.
        var counter = new CounterState { CorrelationId = Guid.NewGuid(), CurrentState = "Counting", Count = 1 };
        var batch = unitOfWork.Batch().InsertIfAbsent(counter).Select("SELECT pg_advisory_xact_lock($1)", 42L);
        var both = batch.Where<MappedProbe>("""
            "Id" IN ($1, $2)
            """, first.Id, second.Id);
        var one = batch.Lock<MappedProbe>(second.Id);
        var none = batch.Read<MappedProbe>(second.Id + 1_000_000);
        await batch.ExecuteAsync(CancellationToken.None);

        Assert.Equal([first.Id, second.Id], both.Rows.Select(x => x.Id).Order());
        AssertSame(second, one.Row!);
        Assert.Null(none.Row);
        Assert.Throws<InvalidOperationException>(() => both.Row);
        Assert.Equal(1, (await _db.Counters.AsNoTracking().SingleAsync(x => x.CorrelationId == counter.CorrelationId)).Count);
        Assert.Empty(_db.ChangeTracker.Entries());
    }

    [Fact]
    public async Task A_unit_of_work_Should_leave_the_outbox_and_inbox_times_to_the_databases_clock()
    {
        // Issue 22, finding 3 (ADR 0008): the relay's poll grace and the inbox retention compare these columns with now(), so
        // no process may write them, whatever its entity says; a column with a database default is the database's to fill.
        var inbox = new InboxMessage
        {
            Consumer = "clock-test", MessageId = NewId.NextGuid(), MessageType = "Probe", ProcessedAt = DateTimeOffset.UtcNow.AddHours(-1),
        };
        Guid messageId;
        var before = await ScalarAsync<DateTimeOffset>("SELECT now() AS \"Value\"");
        await using (var unitOfWork = new UnitOfWork(_db, new OutboxSignal()))
        {
            await unitOfWork.BeginAsync(CancellationToken.None);
            unitOfWork.Insert(inbox);
            messageId = unitOfWork.Publish(new Unrouted(3));
            await unitOfWork.CommitAsync(CancellationToken.None);
        }
        var after = await ScalarAsync<DateTimeOffset>("SELECT now() AS \"Value\"");

        var createdAt = await _db.Set<OutboxMessage>().AsNoTracking().Where(x => x.MessageId == messageId).Select(x => x.CreatedAt).SingleAsync();
        var processedAt = await _db.Set<InboxMessage>().AsNoTracking().Where(x => x.Consumer == "clock-test" && x.MessageId == inbox.MessageId)
            .Select(x => x.ProcessedAt).SingleAsync();
        Assert.InRange(createdAt, before, after);
        Assert.InRange(processedAt, before, after);
    }

    static MappedProbe NewProbe() => new()
    {
        Reference = Guid.NewGuid(),
        Kind = ProbeKind.Special,
        Amount = 12.34m,
        Payload = """{"orderId": "a", "total": 12.34}""",
        At = new DateTimeOffset(2026, 12, 1, 10, 30, 15, TimeSpan.Zero).AddTicks(1230),
        Note = null,
    };

    static void AssertSame(MappedProbe expected, MappedProbe actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Reference, actual.Reference);
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.Amount, actual.Amount);
        Assert.Equal(expected.At, actual.At);
        Assert.Equal(expected.Note, actual.Note);
        // jsonb normalises the text (spacing, key order), so compare the documents.
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected.Payload), JsonNode.Parse(actual.Payload)), $"{actual.Payload} is not {expected.Payload}");
    }

    async Task InTransactionAsync(Func<Task> work)
    {
        await using var transaction = await _db.Database.BeginTransactionAsync();
        await work();
        await transaction.CommitAsync();
    }

    NpgsqlBatch BatchOf(params NpgsqlBatchCommand[] commands)
    {
        var transaction = (NpgsqlTransaction)_db.Database.CurrentTransaction!.GetDbTransaction();
        var batch = new NpgsqlBatch(transaction.Connection, transaction);
        foreach (var command in commands)
            batch.BatchCommands.Add(command);
        return batch;
    }

    async Task<T> ScalarAsync<T>(string sql) => await _db.Database.SqlQueryRaw<T>(sql).SingleAsync();
}
