namespace EventShop.Orders.Domain;

public sealed class Order
{
    public Guid OrderId { get; init; }
    public required string CustomerId { get; init; }
    public required string MerchantId { get; init; }
    public decimal Total { get; init; }
    public OrderStatus Status { get; private set; }
    public long? PointsAccrued { get; private set; }
    public string? FailureReason { get; private set; }

    /// <summary>A stable code for <see cref="FailureReason"/> (<c>InsufficientFunds</c>, <c>StepTimedOut</c>, ...), from the saga.</summary>
    public string? FailureCode { get; private set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>
    /// When the reconciler last saw this order Pending (the database's clock), null until it has: it asks the saga about
    /// the order again once this is older than its budget (ADR 0008).
    /// </summary>
    public DateTimeOffset? ReconciledAt { get; private set; }

    /// <summary>Who submitted it and with which Idempotency-Key: unique together, so a retried request finds the first order.</summary>
    public required string IdempotencyScope { get; init; }
    public required string IdempotencyKey { get; init; }
    public required string RequestHash { get; init; }

    public List<OrderItem> Items { get; init; } = [];

    public static Order Place(Guid orderId, string customerId, string merchantId, IReadOnlyList<OrderItem> items,
        string idempotencyScope, string idempotencyKey, string requestHash, DateTimeOffset now) => new()
    {
        OrderId = orderId,
        CustomerId = customerId,
        MerchantId = merchantId,
        Items = [.. items],
        Total = items.Sum(item => item.Quantity * item.UnitPrice),
        Status = OrderStatus.Pending,
        IdempotencyScope = idempotencyScope,
        IdempotencyKey = idempotencyKey,
        RequestHash = requestHash,
        CreatedAt = AsStored(now),
        UpdatedAt = AsStored(now),
    };

    /// <returns>False when the order had already ended (a duplicate or late outcome): nothing changes.</returns>
    public bool Complete(long pointsAccrued, DateTimeOffset now)
    {
        if (Status != OrderStatus.Pending)
            return false;
        Status = OrderStatus.Completed;
        PointsAccrued = pointsAccrued;
        UpdatedAt = AsStored(now);
        return true;
    }

    public bool Cancel(string reason, string? failureCode, DateTimeOffset now)
    {
        if (Status != OrderStatus.Pending)
            return false;
        Status = OrderStatus.Cancelled;
        FailureReason = reason;
        FailureCode = failureCode;
        UpdatedAt = AsStored(now);
        return true;
    }

    /// <summary>
    /// PostgreSQL keeps microseconds, .NET ticks are 100 ns. The order in memory is handed to waiting requests as it
    /// committed (<see cref="StatusNotifications.OrderStatusNotifier"/>), so it must say exactly what a read of the row would return.
    /// </summary>
    static DateTimeOffset AsStored(DateTimeOffset time) => new(time.Ticks - time.Ticks % 10, time.Offset);
}
