using EventShop.Sagas.OrderPlacement;
using EventShop.ServiceDefaults;

namespace EventShop.Sagas.Apis;

/// <summary>
/// The operator console's narrowing of <c>GET /api/sagas</c>: by party, failure code, creation time and the start of the order
/// id (what an operator pastes from a log or a customer's mail), one page at a time.
/// </summary>
/// <param name="OrderId">The order id or its beginning (hex digits and dashes, any case).</param>
/// <param name="From">Created at or after.</param>
/// <param name="To">Created before.</param>
public sealed record SagaFilter(string? CustomerId, string? MerchantId, string? FailureCode, string? OrderId, DateTimeOffset? From,
    DateTimeOffset? To, int? Offset)
{
    const int MaxOffset = 1_000_000;

    public void Validate(Validation validation)
    {
        if (CustomerId is not null)
            validation.Identifier(CustomerId, "customerId");
        if (MerchantId is not null)
            validation.Identifier(MerchantId, "merchantId");
        if (FailureCode is not null)
            validation.Identifier(FailureCode, "failureCode", 64);
        validation
            .Require(OrderId is null || (OrderId.Length is >= 1 and <= 36 && OrderId.All(c => char.IsAsciiHexDigit(c) || c == '-')), "orderId",
                "must be an order id or its beginning: 1-36 hex digits and dashes")
            .Require(From is null || To is null || From < To, "to", "must be after from")
            .Require(Offset is null or (>= 0 and <= MaxOffset), "offset", $"must be between 0 and {MaxOffset}");
    }

    public IQueryable<OrderState> Apply(IQueryable<OrderState> query)
    {
        if (CustomerId is not null)
            query = query.Where(x => x.CustomerId == CustomerId);
        if (MerchantId is not null)
            query = query.Where(x => x.MerchantId == MerchantId);
        if (FailureCode is not null)
            query = query.Where(x => x.FailureCode == FailureCode);
        if (From is not null)
            query = query.Where(x => x.CreatedAt >= From.Value.ToUniversalTime());
        if (To is not null)
            query = query.Where(x => x.CreatedAt < To.Value.ToUniversalTime());
        if (OrderId is not null)
        {
            // PostgreSQL writes a uuid lowercase with dashes: a pasted id without dashes is compared without them too.
            var prefix = OrderId.ToLowerInvariant();
            query = prefix.Contains('-', StringComparison.Ordinal)
                ? query.Where(x => x.CorrelationId.ToString().StartsWith(prefix))
                : query.Where(x => x.CorrelationId.ToString().Replace("-", "").StartsWith(prefix));
        }
        return query;
    }
}
