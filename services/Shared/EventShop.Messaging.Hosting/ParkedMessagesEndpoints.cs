using EventShop.Messaging.Outbox;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventShop.Messaging.Hosting;

public sealed record ParkedMessageResponse(long Id, Guid MessageId, string MessageType, string? DestinationAddress, Guid? CorrelationId,
    DateTimeOffset CreatedAt, int Attempts, string Body);

/// <summary>
/// The outbox rows this service's relay gave up on, for the operators' failed-message console (the dashboard lists them
/// with the broker's error queues). Each service answers for its own rows, so retry and discard happen in the database
/// that owns the row: a retry hands the row back to the relay's poll (attempts from zero), a discard deletes it. Outside
/// /api and not routed by the gateway: the dashboard calls each service directly, with the operator's own token.
/// </summary>
public static class ParkedMessagesEndpoints
{
    public static IEndpointRouteBuilder MapParkedMessages<TDbContext>(this IEndpointRouteBuilder app)
        where TDbContext : DbContext
    {
        var parked = app.MapGroup("/outbox/parked").WithTags("Outbox").RequireAuthorization(Policies.Operator);
        var dbContextType = typeof(TDbContext);
        parked.MapGet("/", (int? limit, HttpContext http, IOptions<OutboxRelayOptions> options, CancellationToken cancellationToken) =>
            List(limit, Db(http, dbContextType), options, cancellationToken));
        parked.MapPost("/{id:long}/retry", (long id, HttpContext http, IOptions<OutboxRelayOptions> options, CancellationToken cancellationToken) =>
            Retry(id, Db(http, dbContextType), options, cancellationToken));
        parked.MapPost("/{id:long}/discard", (long id, HttpContext http, IOptions<OutboxRelayOptions> options, CancellationToken cancellationToken) =>
            Discard(id, Db(http, dbContextType), options, cancellationToken));
        return app;
    }

    static DbContext Db(HttpContext http, Type dbContextType) => (DbContext)http.RequestServices.GetRequiredService(dbContextType);

    static async Task<Results<Ok<ParkedMessageResponse[]>, ValidationProblem>> List(int? limit, DbContext db,
        IOptions<OutboxRelayOptions> options, CancellationToken cancellationToken)
    {
        var validation = new Validation().Require(limit is null or (>= 1 and <= 1000), "limit", "must be between 1 and 1000");
        if (!validation.IsValid)
            return validation.ToProblem();

        var maxAttempts = options.Value.MaxAttempts;
        var rows = await db.Set<OutboxMessage>().AsNoTracking().Where(x => x.Attempts >= maxAttempts).OrderBy(x => x.Id)
            .Take(limit ?? 100).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(x => new ParkedMessageResponse(x.Id, x.MessageId, x.MessageType, x.DestinationAddress,
            x.CorrelationId, x.CreatedAt, x.Attempts, x.Body)).ToArray());
    }

    static async Task<Results<Accepted, NotFound>> Retry(long id, DbContext db, IOptions<OutboxRelayOptions> options,
        CancellationToken cancellationToken)
    {
        var maxAttempts = options.Value.MaxAttempts;
        // The relay's next poll claims it like any fresh row; if it fails again it counts its attempts from zero.
        var changed = await db.Set<OutboxMessage>().Where(x => x.Id == id && x.Attempts >= maxAttempts)
            .ExecuteUpdateAsync(set => set.SetProperty(x => x.Attempts, 0), cancellationToken);
        return changed == 1 ? TypedResults.Accepted((string?)null) : TypedResults.NotFound();
    }

    static async Task<Results<Ok, NotFound>> Discard(long id, DbContext db, IOptions<OutboxRelayOptions> options,
        CancellationToken cancellationToken)
    {
        var maxAttempts = options.Value.MaxAttempts;
        var deleted = await db.Set<OutboxMessage>().Where(x => x.Id == id && x.Attempts >= maxAttempts).ExecuteDeleteAsync(cancellationToken);
        return deleted == 1 ? TypedResults.Ok() : TypedResults.NotFound();
    }
}
