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
