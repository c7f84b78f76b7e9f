using System.Collections.Concurrent;
using System.Diagnostics;
using EventShop.Messaging;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xunit.Abstractions;

namespace EventShop.IntegrationTests;

/// <summary>
/// Two units of work that conflict in PostgreSQL (a deadlock, 40P01; a serialization failure, 40001): the one PostgreSQL
/// aborts is rolled back whole and run again by the bus's message retry (BusExtensions: every exception but a poison
/// message), and each message's effect happens exactly once. Real conflicts on real rows, not thrown by hand.
/// </summary>
public sealed class ConflictRetryTests(IsolatedInfrastructure infrastructure, ITestOutputHelper output) : IClassFixture<IsolatedInfrastructure>
{
    [Theory]
    [InlineData(false, PostgresErrorCodes.DeadlockDetected)]
    [InlineData(true, PostgresErrorCodes.SerializationFailure)]
    public async Task When_two_messages_conflict_in_the_database_Should_retry_the_loser_and_apply_each_once(bool serializable, string conflict)
    {
        await using var host = await MessagingTestHost.StartAsync(infrastructure.Broker, infrastructure.Name, infrastructure.ConnectionString,
            bus => bus.AddConsumer<ConflictingWriteConsumer>());
        var (a, b) = (NewId.NextGuid(), NewId.NextGuid());
        await using (var db = host.NewDbContext())
        {
            db.Rows.AddRange(new ProbeRow { Id = a }, new ProbeRow { Id = b });
            await db.SaveChangesAsync();
        }

        // Deadlock: each locks its first row, then waits for the other's. Serialization: both read a at the same snapshot,
        // then update it: the second update finds a concurrent change it cannot serialize after.
        var messages = serializable
            ? new[] { new ConflictingWrite(a, b, serializable), new ConflictingWrite(a, b, serializable) }
            : [new ConflictingWrite(a, b, serializable), new ConflictingWrite(b, a, serializable)];
        var messageIds = messages.Select(_ => NewId.NextGuid()).ToArray();
        var started = Stopwatch.StartNew();
        await Task.WhenAll(messages.Select((m, i) => host.Bus.Publish(m, context => context.MessageId = messageIds[i])));

        await Eventually.TrueAsync(async () => await InboxRowsAsync(host, messageIds) == 2, "both messages were not handled", seconds: 60);
        output.WriteLine($"[conflict] {conflict}: both messages applied {started.Elapsed.TotalSeconds:F1} s after they were published " +
            $"(attempts: {string.Join(", ", ConflictingWriteConsumer.Attempts(messageIds))})");

        Assert.Contains(conflict, ConflictingWriteConsumer.ConflictsOf(messageIds));
        Assert.Contains(ConflictingWriteConsumer.Attempts(messageIds), attempt => attempt > 0);
        // Each message adds 1 to its first row and 10 to its second, once.
        var expected = serializable ? (2, 20) : (11, 11);
        Assert.Equal(expected, (await ValueAsync(host, a), await ValueAsync(host, b)));
    }

    static async Task<int> ValueAsync(MessagingTestHost host, Guid id)
    {
        await using var db = host.NewDbContext();
        return (await db.Rows.AsNoTracking().SingleAsync(x => x.Id == id)).Value;
    }

    static Task<int> InboxRowsAsync(MessagingTestHost host, Guid[] messageIds) =>
        host.ScalarAsync<int>("SELECT count(*)::int AS \"Value\" FROM messaging.inbox_messages " +
            $"WHERE \"MessageId\" IN ({string.Join(", ", messageIds.Select(id => $"'{id}'"))})");
}

/// <summary>Adds 1 to <see cref="First"/> and 10 to <see cref="Second"/>, slowly, so that two of them overlap.</summary>
public sealed record ConflictingWrite(Guid First, Guid Second, bool Serializable);

public sealed class ConflictingWriteConsumer(UnitOfWork unitOfWork) : IConsumer<ConflictingWrite>
{
    static readonly ConcurrentBag<(Guid MessageId, int Attempt, string? Conflict)> Seen = [];

    public static IEnumerable<string> ConflictsOf(Guid[] messageIds) =>
        Seen.Where(x => messageIds.Contains(x.MessageId) && x.Conflict is not null).Select(x => x.Conflict!);

    public static IEnumerable<int> Attempts(Guid[] messageIds) => Seen.Where(x => messageIds.Contains(x.MessageId)).Select(x => x.Attempt);

    public async Task Consume(ConsumeContext<ConflictingWrite> context)
    {
        var (first, second) = (context.Message.First, context.Message.Second);
        var database = unitOfWork.DbContext.Database;
        try
        {
            if (context.Message.Serializable)
                await database.ExecuteSqlRawAsync("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
            await database.ExecuteSqlRawAsync("""SELECT "Value" FROM probe."Rows" WHERE "Id" = {0}""", first);
            await database.ExecuteSqlRawAsync("SELECT pg_sleep(0.5)");
            await database.ExecuteSqlRawAsync("""UPDATE probe."Rows" SET "Value" = "Value" + 1 WHERE "Id" = {0}""", first);
            await database.ExecuteSqlRawAsync("SELECT pg_sleep(0.5)");
            await database.ExecuteSqlRawAsync("""UPDATE probe."Rows" SET "Value" = "Value" + 10 WHERE "Id" = {0}""", second);
            Seen.Add((context.MessageId!.Value, context.GetRetryAttempt(), null));
        }
        catch (PostgresException e)
        {
            Seen.Add((context.MessageId!.Value, context.GetRetryAttempt(), e.SqlState));
            throw;
        }
    }
}

/// <summary>
/// The HTTP side (<see cref="EventShop.Messaging.Hosting.TransientDatabaseRetry"/>, around a request's unit of work): a
/// conflict (40001, 40P01) or a connection the server terminated (57P01) runs the unit of work again; other errors do not.
/// </summary>
public sealed class TransientDatabaseRetryTests
{
    [Theory]
    [InlineData(PostgresErrorCodes.SerializationFailure, true)]
    [InlineData(PostgresErrorCodes.DeadlockDetected, true)]
    [InlineData(PostgresErrorCodes.AdminShutdown, true)]
    [InlineData(PostgresErrorCodes.UniqueViolation, false)]
    public async Task When_a_unit_of_work_fails_in_the_database_Should_run_it_again_only_for_a_transient_failure(string sqlState, bool retried)
    {
        foreach (var failure in new Func<Exception>[]
                 {
                     () => new PostgresException("failed", "ERROR", "ERROR", sqlState), // a query or a statement of the batch
                     () => new DbUpdateException("failed", new PostgresException("failed", "ERROR", "ERROR", sqlState)), // SaveChanges
                 })
        {
            var attempts = 0;
            var run = Record.ExceptionAsync(async () => await EventShop.Messaging.Hosting.TransientDatabaseRetry.Pipeline.ExecuteAsync(_ =>
                ++attempts == 1 ? throw failure() : ValueTask.CompletedTask));

            Assert.Equal(retried ? null : failure().GetType(), (await run)?.GetType());
            Assert.Equal(retried ? 2 : 1, attempts);
        }
    }
}
