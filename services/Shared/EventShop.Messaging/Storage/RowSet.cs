using Npgsql;

namespace EventShop.Messaging.Storage;

interface IRowSet
{
    void Add(NpgsqlDataReader reader);
}

/// <summary>The rows one read of a <see cref="RowBatch"/> found, filled when the batch has run. Not tracked by EF.</summary>
public sealed class RowSet<T> : IRowSet where T : class
{
    readonly TableMap _map;
    readonly List<T> _rows = [];

    internal RowSet(TableMap map) => _map = map;

    public IReadOnlyList<T> Rows => _rows;

    /// <summary>The one row found, or null when there is none (a read by key finds at most one).</summary>
    public T? Row => _rows.Count switch
    {
        0 => null,
        1 => _rows[0],
        _ => throw new InvalidOperationException($"Expected at most one {typeof(T).Name}, found {_rows.Count}"),
    };

    void IRowSet.Add(NpgsqlDataReader reader) => _rows.Add((T)_map.Read(reader));
}
