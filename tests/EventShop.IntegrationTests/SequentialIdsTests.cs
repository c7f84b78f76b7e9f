using EventShop.Messaging;
using EventShop.Testing;
using Npgsql;

namespace EventShop.IntegrationTests;

/// <summary>
/// Order ids and outbox message ids (the receivers' inbox keys) are index keys in PostgreSQL: they must sort by creation
/// time in PostgreSQL's own uuid order, so inserts append at the right edge of those indexes instead of landing anywhere.
/// </summary>
public sealed class SequentialIdsTests
{
    [Fact]
    public async Task Ids_sort_in_PostgreSQL_in_the_order_they_were_made()
    {
        var (_, database) = await TestInfrastructure.GetAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 2_000; i++)
        {
            ids.Add(SequentialIds.Next());
            if (i % 500 == 0)
                await Task.Delay(5); // across clock ticks too, not only within one
        }

        await using var connection = new NpgsqlConnection(database.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TEMP TABLE made (id uuid, ordinal int)", connection))
            await create.ExecuteNonQueryAsync();
        await using (var insert = new NpgsqlCommand("INSERT INTO made SELECT * FROM unnest(@ids, @ordinals)", connection))
        {
            insert.Parameters.AddWithValue("ids", ids.ToArray());
            insert.Parameters.AddWithValue("ordinals", Enumerable.Range(0, ids.Count).ToArray());
            await insert.ExecuteNonQueryAsync();
        }

        var ordinalsInIdOrder = new List<int>();
        await using (var select = new NpgsqlCommand("SELECT ordinal FROM made ORDER BY id", connection))
        await using (var reader = await select.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                ordinalsInIdOrder.Add(reader.GetInt32(0));
        }

        Assert.Equal(Enumerable.Range(0, ids.Count), ordinalsInIdOrder);
    }
}
