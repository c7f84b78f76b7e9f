using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EventShop.Messaging.Storage;

/// <summary>
/// Several statements and reads sent in one round trip inside a unit of work's transaction, which EF's queries cannot do:
/// for the lock-then-read sequence at the start of a handler. PostgreSQL runs the statements in order and gives each its
/// own snapshot, so a read placed after a lock sees what the lock's previous holder committed. Rows are read through the
/// service's EF model (<see cref="TableMap"/>), never by column position.
/// </summary>
public sealed class RowBatch
{
    readonly DbContext _dbContext;
    readonly NpgsqlTransaction _transaction;
    // Rows is null for a statement whose rows are ignored; ReturnsRows is false for one that has no result set at all
    // (an INSERT): the reader skips those, so they must not be counted when matching result sets to reads.
    readonly List<(NpgsqlBatchCommand Command, IRowSet? Rows, bool ReturnsRows)> _steps = [];

    internal RowBatch(DbContext dbContext, NpgsqlTransaction transaction)
    {
        _dbContext = dbContext;
        _transaction = transaction;
    }

    /// <summary>A SELECT run for its effect (an advisory lock), its rows ignored; positional parameters ($1, $2, ...).</summary>
    public RowBatch Select(string sql, params object[] parameters)
    {
        _steps.Add((Sql.Command(sql, parameters), null, true));
        return this;
    }

    /// <summary>Inserts <paramref name="row"/> unless a row with its key exists (then leaves that one as it is).</summary>
    public RowBatch InsertIfAbsent(object row)
    {
        var map = TableMap.For(_dbContext, row.GetType());
        _steps.Add((map.InsertIfAbsent(row), null, map.ReturnsGeneratedValues));
        return this;
    }

    /// <summary>The row of <typeparamref name="T"/> with this key, locked until the transaction ends.</summary>
    public RowSet<T> Lock<T>(object key) where T : class => Add<T>(map => map.SelectForUpdate(key));

    /// <summary>The row of <typeparamref name="T"/> with this key, not locked.</summary>
    public RowSet<T> Read<T>(object key) where T : class => Add<T>(map => map.Select(key));

    /// <summary>The rows of <typeparamref name="T"/> that meet <paramref name="condition"/> (SQL on its columns, parameters $1, $2, ...).</summary>
    public RowSet<T> Where<T>(string condition, params object[] parameters) where T : class =>
        Add<T>(map => map.SelectWhere(condition, parameters));

    public async Task ExecuteAsync(CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(_transaction.Connection, _transaction);
        foreach (var (command, _, _) in _steps)
            batch.BatchCommands.Add(command);

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        // Every statement that returns rows gives one result set, in order (an empty one when it found nothing).
        var first = true;
        foreach (var (_, rows, returnsRows) in _steps)
        {
            if (!returnsRows)
                continue;
            if (!first && !await reader.NextResultAsync(cancellationToken))
                throw new InvalidOperationException("The batch returned fewer result sets than it has reads");
            first = false;
            if (rows is not null)
            {
                while (await reader.ReadAsync(cancellationToken))
                    rows.Add(reader);
            }
        }
    }

    RowSet<T> Add<T>(Func<TableMap, NpgsqlBatchCommand> command) where T : class
    {
        var map = TableMap.For(_dbContext, typeof(T));
        var rows = new RowSet<T>(map);
        _steps.Add((command(map), rows, true));
        return rows;
    }
}
