using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace EventShop.Messaging.Storage;

public static class RowReads
{
    /// <summary>
    /// One entity by its key, read with a plain SELECT of its table (<see cref="TableMap"/>) instead of EF's query pipeline,
    /// and not tracked: for the one-row reads on a hot path. Runs inside the DbContext's open transaction if there is one;
    /// <paramref name="forUpdate"/> locks the row until that transaction ends. Navigations are not loaded.
    /// </summary>
    public static async Task<T?> ReadRowAsync<T>(this DbContext dbContext, object key, bool forUpdate, CancellationToken cancellationToken)
        where T : class
    {
        var database = dbContext.Database;
        var transaction = database.CurrentTransaction?.GetDbTransaction() as NpgsqlTransaction;
        if (forUpdate && transaction is null)
            throw new InvalidOperationException($"Locking a {typeof(T).Name} row needs an open transaction to hold the lock");

        var map = TableMap.For(dbContext, typeof(T));
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var batch = new NpgsqlBatch((NpgsqlConnection)database.GetDbConnection(), transaction);
            batch.BatchCommands.Add(forUpdate ? map.SelectForUpdate(key) : map.Select(key));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? (T)map.Read(reader) : null;
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }
}
