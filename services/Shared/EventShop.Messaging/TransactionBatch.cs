using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace EventShop.Messaging;

public static class TransactionBatch
{
    /// <summary>
    /// A batch on the DbContext's connection, inside the transaction that is open on it (the message's own): several
    /// statements in one round trip, which EF's queries cannot do. For the lock-then-read sequence at the start of a
    /// handler. PostgreSQL runs the statements in order and gives each its own snapshot, so a read placed after a lock
    /// sees what the lock's previous holder committed.
    /// </summary>
    public static NpgsqlBatch CreateBatch(this DatabaseFacade database)
    {
        var transaction = database.CurrentTransaction?.GetDbTransaction() as NpgsqlTransaction
            ?? throw new InvalidOperationException("A batch runs inside the message's transaction, and none is open on this DbContext");
        return new NpgsqlBatch(transaction.Connection, transaction);
    }

    /// <summary>Adds one statement with positional parameters ($1, $2, ...).</summary>
    public static NpgsqlBatch Add(this NpgsqlBatch batch, string sql, params object[] parameters)
    {
        batch.BatchCommands.Add(Command(sql, parameters));
        return batch;
    }

    /// <summary>One statement with positional parameters ($1, $2, ...), e.g. for <see cref="MessagingTransaction.Write"/>.</summary>
    public static NpgsqlBatchCommand Command(string sql, params object[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        return command;
    }
}
