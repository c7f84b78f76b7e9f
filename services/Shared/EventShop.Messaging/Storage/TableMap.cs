using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace EventShop.Messaging.Storage;

/// <summary>
/// How one entity type is stored, read from the EF model (so the EF configuration and its migrations stay the one
/// description of the schema), for the statements our messaging code writes itself instead of going through EF's change
/// tracker and update pipeline: the saga row, its history, the inbox and outbox rows (ADR 0003). Values are bound with
/// EF's own type mapping for each column (jsonb, timestamptz, value converters), so a row written here is the row EF
/// would have written.
/// </summary>
public sealed class TableMap
{
    static readonly ConcurrentDictionary<(IModel Model, Type Type), TableMap> Maps = new();

    // RelationalTypeMapping.CreateParameter takes a command only to call its CreateParameter; batch commands have no such
    // method, so this one never executes anything.
    static readonly NpgsqlCommand ParameterFactory = new();

    static readonly MethodInfo ReadValueMethod = typeof(TableMap).GetMethod(nameof(ReadValue), BindingFlags.NonPublic | BindingFlags.Static)!;

    readonly Type _clrType;
    readonly Column[] _columns;
    readonly Column[] _keys;
    readonly Column[] _inserted;
    readonly Column[] _generated;
    readonly Column[] _updated;
    readonly string _table;
    readonly string _insertSql;
    readonly string _insertIfAbsentSql;
    readonly string _updateSql;
    readonly string _deleteSql;
    readonly string _selectColumnsSql;
    readonly string _selectSql;
    readonly string _selectForUpdateSql;

    TableMap(IEntityType entityType)
    {
        _clrType = entityType.ClrType;
        if (_clrType.GetConstructor(Type.EmptyTypes) is null)
            throw new NotSupportedException($"{_clrType.Name} needs a parameterless constructor to be read without EF");

        var store = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
        _table = entityType.GetSchema() is { } schema ? $"{Quote(schema)}.{Quote(store.Name)}" : Quote(store.Name);
        var keyProperties = entityType.FindPrimaryKey()?.Properties
            ?? throw new NotSupportedException($"{_clrType.Name} has no primary key");

        _columns = [.. entityType.GetProperties().Select(property => new Column(property, store, keyProperties.Contains(property)))];
        _keys = [.. keyProperties.Select(key => _columns.Single(column => column.Property == key))];
        _generated = [.. _columns.Where(column => column.GeneratedByDatabase)];
        _inserted = [.. _columns.Where(column => !column.GeneratedByDatabase)];
        _updated = [.. _columns.Where(column => !column.IsKey)];

        var returning = _generated.Length == 0 ? "" : $" RETURNING {string.Join(", ", _generated.Select(column => column.Name))}";
        var insert = $"INSERT INTO {_table} ({string.Join(", ", _inserted.Select(column => column.Name))}) " +
            $"VALUES ({string.Join(", ", _inserted.Select((_, i) => $"${i + 1}"))})";
        _insertSql = insert + returning;
        _insertIfAbsentSql = $"{insert} ON CONFLICT ({string.Join(", ", _keys.Select(key => key.Name))}) DO NOTHING{returning}";
        _updateSql = $"UPDATE {_table} SET {string.Join(", ", _updated.Select((column, i) => $"{column.Name} = ${i + 1}"))} " +
            $"WHERE {KeyCondition(firstParameter: _updated.Length + 1)}";
        _deleteSql = $"DELETE FROM {_table} WHERE {KeyCondition(firstParameter: 1)}";
        _selectColumnsSql = $"SELECT {string.Join(", ", _columns.Select(column => column.Name))} FROM {_table}";
        _selectSql = $"{_selectColumnsSql} WHERE {KeyCondition(firstParameter: 1)}";
        _selectForUpdateSql = _selectSql + " FOR UPDATE";
    }

    public static TableMap For(DbContext dbContext, Type clrType) =>
        Maps.GetOrAdd((dbContext.Model, clrType), key => new TableMap(
            key.Model.FindEntityType(key.Type) ?? throw new InvalidOperationException($"{key.Type.Name} is not mapped in {dbContext.GetType().Name}")));

    /// <summary>Whether an insert returns columns the database generates (an identity key), to be set on the row afterwards.</summary>
    public bool ReturnsGeneratedValues => _generated.Length > 0;

    /// <summary>INSERT of every column the database does not generate, returning those it does.</summary>
    public NpgsqlBatchCommand Insert(object row) => Command(_insertSql, row, _inserted);

    /// <summary>INSERT that does nothing when a row with the same key exists: its RecordsAffected is then 0.</summary>
    public NpgsqlBatchCommand InsertIfAbsent(object row) => Command(_insertIfAbsentSql, row, _inserted);

    /// <summary>UPDATE of every non-key column of the row with this key.</summary>
    public NpgsqlBatchCommand Update(object row) => Command(_updateSql, row, [.. _updated, .. _keys]);

    public NpgsqlBatchCommand Delete(object row) => Command(_deleteSql, row, _keys);

    /// <summary>Reads one row by its key (values in key order) and locks it until the transaction ends.</summary>
    public NpgsqlBatchCommand SelectForUpdate(params object[] key) => KeyCommand(_selectForUpdateSql, key);

    /// <summary>Reads one row by its key (values in key order), without a lock.</summary>
    public NpgsqlBatchCommand Select(params object[] key) => KeyCommand(_selectSql, key);

    /// <summary>Reads the rows that meet <paramref name="condition"/> (SQL on this table's columns, parameters $1, $2, ...).</summary>
    public NpgsqlBatchCommand SelectWhere(string condition, params object[] parameters) =>
        Sql.Command($"{_selectColumnsSql} WHERE {condition}", parameters);

    /// <summary>Builds the entity from the current row of a reader over <see cref="Select"/>, <see cref="SelectWhere"/> or <see cref="SelectForUpdate"/>
    /// (columns in model order). Navigations stay as the entity's constructor leaves them: only this table is read.</summary>
    public object Read(NpgsqlDataReader reader)
    {
        var row = Activator.CreateInstance(_clrType)!;
        for (var i = 0; i < _columns.Length; i++)
            _columns[i].Set(row, _columns[i].Read(reader, i));
        return row;
    }

    /// <summary>Sets the database-generated values (the RETURNING columns of <see cref="Insert"/>) on the row.</summary>
    public void ReadGenerated(NpgsqlDataReader reader, object row)
    {
        for (var i = 0; i < _generated.Length; i++)
            _generated[i].Set(row, _generated[i].Read(reader, i));
    }

    /// <summary>Every column's value, to tell later whether a loaded row has changed.</summary>
    public object?[] Snapshot(object row) => [.. _columns.Select(column => column.Get(row))];

    public bool HasChanged(object row, object?[] snapshot)
    {
        for (var i = 0; i < _columns.Length; i++)
        {
            if (!Equals(_columns[i].Get(row), snapshot[i]))
                return true;
        }
        return false;
    }

    NpgsqlBatchCommand KeyCommand(string sql, object[] key)
    {
        var command = new NpgsqlBatchCommand(sql);
        for (var i = 0; i < _keys.Length; i++)
            command.Parameters.Add(_keys[i].Parameter(key[i]));
        return command;
    }

    string KeyCondition(int firstParameter) =>
        string.Join(" AND ", _keys.Select((key, i) => $"{key.Name} = ${firstParameter + i}"));

    static NpgsqlBatchCommand Command(string sql, object row, Column[] columns)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var column in columns)
            command.Parameters.Add(column.Parameter(column.Get(row)));
        return command;
    }

    static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"")}\"";

    static object? ReadValue<T>(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<T>(ordinal);

    sealed class Column
    {
        readonly RelationalTypeMapping _mapping;
        readonly PropertyInfo _clrProperty;
        readonly Func<NpgsqlDataReader, int, object?> _readProviderValue;

        public Column(IProperty property, StoreObjectIdentifier store, bool isKey)
        {
            Property = property;
            IsKey = isKey;
            Name = Quote(property.GetColumnName(store)!);
            _mapping = property.GetRelationalTypeMapping();
            _clrProperty = property.PropertyInfo
                ?? throw new NotSupportedException($"{property.DeclaringType.DisplayName()}.{property.Name} is not a CLR property (shadow or field-only properties are not supported)");
            // Identity and serial keys, and columns with a default the database computes (now(), its clock: ADR 0008): EF
            // marks them generated on add and the database fills them in.
            GeneratedByDatabase = property.ValueGenerated.HasFlag(ValueGenerated.OnAdd)
                && (property.ClrType == typeof(long) || property.ClrType == typeof(int) || property.ClrType == typeof(short)
                    || property.GetDefaultValueSql() is not null);

            var providerType = _mapping.Converter?.ProviderClrType ?? property.ClrType;
            providerType = Nullable.GetUnderlyingType(providerType) ?? providerType;
            _readProviderValue = ReadValueMethod.MakeGenericMethod(providerType).CreateDelegate<Func<NpgsqlDataReader, int, object?>>();
        }

        public IProperty Property { get; }
        public bool IsKey { get; }
        public string Name { get; }
        public bool GeneratedByDatabase { get; }

        public object? Get(object row) => _clrProperty.GetValue(row);

        public void Set(object row, object? value) => _clrProperty.SetValue(row, value);

        public object? Read(NpgsqlDataReader reader, int ordinal)
        {
            var value = _readProviderValue(reader, ordinal);
            return value is not null && _mapping.Converter is { } converter ? converter.ConvertFromProvider(value) : value;
        }

        /// <summary>A positional parameter typed as EF would type it (the converter applied, jsonb stays jsonb).</summary>
        public NpgsqlParameter Parameter(object? value) =>
            (NpgsqlParameter)_mapping.CreateParameter(ParameterFactory, "", value, Property.IsNullable);
    }
}
