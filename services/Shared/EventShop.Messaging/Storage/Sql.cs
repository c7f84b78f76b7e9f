using Npgsql;

namespace EventShop.Messaging.Storage;

public static class Sql
{
    /// <summary>One statement with positional parameters ($1, $2, ...), for <see cref="UnitOfWork.Write"/> or a <see cref="RowBatch"/>.</summary>
    public static NpgsqlBatchCommand Command(string sql, params object[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        return command;
    }
}
