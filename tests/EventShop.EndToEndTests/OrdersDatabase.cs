using EventShop.Testing;
using Npgsql;

namespace EventShop.EndToEndTests;

/// <summary>Reads the Orders service's own database, to prove what a rejected request did not store.</summary>
public sealed class OrdersDatabase(EventShopSystem system)
{
    public Task<long> CountOrdersAsync(string customerId) =>
        ScalarAsync("SELECT count(*) FROM orders.orders WHERE \"CustomerId\" = @customer", customerId);

    public Task<long> CountAllOrdersAsync() => ScalarAsync("SELECT count(*) FROM orders.orders");

    /// <summary>
    /// The relay deletes outbox rows once the broker confirms them, so an empty table proves little. The identity sequence
    /// only moves forward: if it has not moved, no outbox row was ever inserted (the Orders API is its only writer).
    /// </summary>
    public Task<long> OutboxSequenceAsync() =>
        ScalarAsync("SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('messaging.outbox_messages', 'Id')::regclass), 0)");

    public Task<long> CountOutboxRowsMentioningAsync(string text) =>
        ScalarAsync("SELECT count(*) FROM messaging.outbox_messages WHERE \"Body\"::text LIKE '%' || @customer || '%'", text);

    /// <summary>An order written straight to the table: no OrderSubmitted, no saga, so it stays Pending until the test moves it.</summary>
    public Task InsertPendingOrderAsync(Guid orderId, string customerId, string merchantId) =>
        ExecuteAsync("""
            INSERT INTO orders.orders ("OrderId", "CustomerId", "MerchantId", "Total", "Status", "CreatedAt", "UpdatedAt",
                                       "IdempotencyScope", "IdempotencyKey", "RequestHash")
            VALUES (@order, @customer, @merchant, 9.99, 'Pending', now(), now(), @customer, @order::text, 'test')
            """, ("order", orderId), ("customer", customerId), ("merchant", merchantId));

    /// <summary>Completes an order the way another Orders replica would: in the database, unseen by this process's notifier.</summary>
    public Task CompleteOrderElsewhereAsync(Guid orderId) =>
        ExecuteAsync("""UPDATE orders.orders SET "Status" = 'Completed', "PointsAccrued" = 9, "UpdatedAt" = now() WHERE "OrderId" = @order""",
            ("order", orderId));

    /// <summary>
    /// Removes an order made by <see cref="InsertPendingOrderAsync"/>: it never had a saga, a debit or points, so left behind
    /// on the shared system it would turn the cross-service invariants red for every test after it.
    /// </summary>
    public Task DeleteFabricatedOrderAsync(Guid orderId) =>
        ExecuteAsync("""DELETE FROM orders.orders WHERE "OrderId" = @order AND "RequestHash" = 'test'""", ("order", orderId));

    /// <summary>The order's stored items, in the order they were submitted.</summary>
    public async Task<List<(string Sku, int Quantity, decimal UnitPrice)>> ItemsAsync(Guid orderId)
    {
        await using var connection = new NpgsqlConnection(system.ConnectionString("Orders"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """SELECT "Sku", "Quantity", "UnitPrice" FROM orders.order_items WHERE "OrderId" = @order ORDER BY "Id" """, connection);
        command.Parameters.AddWithValue("order", orderId);
        var items = new List<(string, int, decimal)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            items.Add((reader.GetString(0), reader.GetInt32(1), reader.GetDecimal(2)));
        return items;
    }

    /// <summary>The sessions listening for order status changes in this database: the Orders service's listener.</summary>
    public async Task<List<int>> StatusListenerSessionsAsync()
    {
        await using var connection = new NpgsqlConnection(system.ConnectionString("Orders"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()", connection);
        var sessions = new List<int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            sessions.Add(reader.GetInt32(0));
        return sessions;
    }

    /// <summary>Ends a session from the server's side, as a database restart or a network cut would.</summary>
    public Task<long> TerminateSessionAsync(int pid) =>
        ScalarAsync($"SELECT count(*) FROM pg_terminate_backend({pid}) WHERE pg_terminate_backend");

    async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(system.ConnectionString("Orders"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    async Task<long> ScalarAsync(string sql, string? customer = null)
    {
        await using var connection = new NpgsqlConnection(system.ConnectionString("Orders"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        if (customer is not null)
            command.Parameters.AddWithValue("customer", customer);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
