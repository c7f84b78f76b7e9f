using MassTransit;

namespace EventShop.Messaging;

/// <summary>
/// Ids for rows keyed by a uuid in PostgreSQL (orders and everything keyed by the order id, outbox message ids and so the
/// receivers' inbox keys). PostgreSQL orders uuids byte by byte; <see cref="NewId.NextGuid"/> is ordered for SQL Server
/// (its time is in the last bytes), so its ids land all over a PostgreSQL index: every insert touches a random leaf page,
/// and pages split half empty. These ids grow byte by byte with time, so inserts append at the index's right edge.
/// </summary>
public static class SequentialIds
{
    public static Guid Next() => NewId.NextSequentialGuid();
}
