using System.Net.ServerSentEvents;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text;
using EventShop.Contracts.Orders;
using EventShop.Messaging.Hosting;
using EventShop.Messaging;
using EventShop.Orders.Domain;
using EventShop.Orders.Infrastructure;
using EventShop.Orders.StatusNotifications;
using EventShop.ServiceDefaults;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EventShop.Orders.Apis;

public static class OrdersApi
{
    const int MaxItems = 100;
    const int MaxWaitSeconds = 60;

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/orders").WithTags("Orders").RequireAuthorization(Policies.CustomerOrOperator);

        api.MapPost("/", SubmitOrder);
        api.MapGet("/{orderId:guid}", GetOrder);
        api.MapGet("/{orderId:guid}/events", StreamOrderStatus);
        api.MapGet("/", ListOrders);
        return app;
    }

    static async Task<Results<Accepted<OrderAccepted>, ValidationProblem, ProblemHttpResult>> SubmitOrder(
        HttpRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ClaimsPrincipal user,
        OrderBook orders, UnitOfWork unitOfWork, OrdersDbContext db, OrderStatusNotifier notifier, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<SubmitOrderRequest>(request);
        if (problem is not null)
            return problem;

        var validation = Validate(body!, idempotencyKey, user);
        if (!validation.IsValid)
            return validation.ToProblem();

        var scope = user.FindFirst("sub")!.Value;
        var items = body!.Items!.Select(i => new OrderItem { Sku = i.Sku!, Quantity = i.Quantity!.Value, UnitPrice = i.UnitPrice!.Value }).ToList();
        var requestHash = Hash(body);

        return await TransientDatabaseRetry.Pipeline.ExecuteAsync(async token =>
        {
            // No lookup first: a new key is the common case, and the unique index on (scope, key) catches a reused one.
            var order = Order.Place(SequentialIds.Next(), body.CustomerId!, body.MerchantId!, items, scope, idempotencyKey!, requestHash, clock.GetUtcNow());
            // One transaction: the order, its items, its idempotency key and the OrderSubmitted event commit together.
            orders.Place(order);
            unitOfWork.Publish(new OrderSubmitted(order.OrderId, order.CustomerId, order.MerchantId, order.Total, order.CreatedAt),
                correlationId: order.OrderId);
            try
            {
                await unitOfWork.CommitAsync(token);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // The key was used before (a client retry), or a concurrent request with it won the race: answer as it did.
                var existing = await FindByIdempotencyKeyAsync(db, scope, idempotencyKey!, token);
                return Replay(existing!.Value, requestHash);
            }

            notifier.Submitted(order);
            return Accepted(order.OrderId, OrderStatus.Pending);
        }, cancellationToken);
    }

    static Validation Validate(SubmitOrderRequest body, string? idempotencyKey, ClaimsPrincipal user)
    {
        var validation = new Validation()
            .Require(!string.IsNullOrEmpty(idempotencyKey) && idempotencyKey.Length <= 100, "Idempotency-Key", "header is required, 1 to 100 characters")
            .Identifier(body.CustomerId, "customerId")
            .Identifier(body.MerchantId, "merchantId")
            .Require(body.Items is { Count: > 0 }, "items", "must contain at least one item")
            .Require(body.Items is null || body.Items.Count <= MaxItems, "items", $"must contain at most {MaxItems} items");

        if (user.IsInRole(Roles.Customer) && !user.IsInRole(Roles.Operator) && body.CustomerId is not null)
            validation.Require(user.FindFirst("sub")?.Value == body.CustomerId, "customerId", "must be the authenticated customer");

        for (var i = 0; body.Items is not null && i < body.Items.Count; i++)
        {
            var item = body.Items[i];
            var field = $"items[{i}]";
            if (item is null)
            {
                validation.Require(false, field, "must be an object");
                continue;
            }

            validation.Require(!string.IsNullOrWhiteSpace(item.Sku) && item.Sku.Length <= 64, $"{field}.sku", "is required, at most 64 characters")
                .Require(item.Quantity is >= 1 and <= 10_000, $"{field}.quantity", "must be between 1 and 10000")
                .Require(item.UnitPrice is not null, $"{field}.unitPrice", "is required");
            if (item.UnitPrice is { } price)
                validation.Money(price, $"{field}.unitPrice", allowZero: false);
        }

        return validation;
    }

    static async Task<(Guid OrderId, OrderStatus Status, string RequestHash)?> FindByIdempotencyKeyAsync(
        OrdersDbContext db, string scope, string key, CancellationToken cancellationToken)
    {
        var found = await db.Orders.AsNoTracking()
            .Where(x => x.IdempotencyScope == scope && x.IdempotencyKey == key)
            .Select(x => new { x.OrderId, x.Status, x.RequestHash })
            .SingleOrDefaultAsync(cancellationToken);
        return found is null ? null : (found.OrderId, found.Status, found.RequestHash);
    }

    static Results<Accepted<OrderAccepted>, ValidationProblem, ProblemHttpResult> Replay(
        (Guid OrderId, OrderStatus Status, string RequestHash) existing, string requestHash) =>
        existing.RequestHash == requestHash
            ? Accepted(existing.OrderId, existing.Status)
            : TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused",
                detail: "This Idempotency-Key was already used for a different request body.");

    static Accepted<OrderAccepted> Accepted(Guid orderId, OrderStatus status) =>
        TypedResults.Accepted($"/api/orders/{orderId}", new OrderAccepted(orderId, status.ToString()));

    static string Hash(SubmitOrderRequest body) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(body))));

    /// <summary>With <c>waitForCompletion=N</c> the request is held (up to N seconds) until the order ends: no client polling.</summary>
    static async Task<Results<Ok<OrderResponse>, NotFound, ValidationProblem>> GetOrder(
        Guid orderId, int? waitForCompletion, ClaimsPrincipal user, OrderBook orders, OrderStatusNotifier notifier,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Require(waitForCompletion is null or (>= 0 and <= MaxWaitSeconds), "waitForCompletion", $"must be between 0 and {MaxWaitSeconds} seconds");
        if (!validation.IsValid)
            return validation.ToProblem();

        var wait = TimeSpan.FromSeconds(waitForCompletion ?? 0);
        var deadline = clock.GetUtcNow() + wait;
        for (var firstRead = true; ; firstRead = false)
        {
            // Registered before the read, so a change committed in between is not missed.
            var changed = notifier.WaitForChangeAsync(orderId);
            try
            {
                // The first read of an order this process just accepted comes from memory; every re-read goes to the
                // database, where another replica's change shows up.
                var order = (firstRead ? notifier.RecentlySubmitted(orderId) : null) ?? await orders.ReadAsync(orderId, cancellationToken);
                if (order is null || !user.MayAccess(order.CustomerId))
                    return TypedResults.NotFound();

                var remaining = deadline - clock.GetUtcNow();
                if (order.Status != OrderStatus.Pending || remaining <= TimeSpan.Zero)
                    return TypedResults.Ok(OrderResponse.From(order));

                var committed = await WaitAsync(changed, remaining < SafetyReReadInterval ? remaining : SafetyReReadInterval, cancellationToken);
                if (committed is { Status: not OrderStatus.Pending })
                    return TypedResults.Ok(OrderResponse.From(committed));
            }
            finally
            {
                notifier.Forget(orderId, changed);
            }
        }
    }

    /// <summary>Server-sent events: the current status at once, then every change, ending with the terminal status.</summary>
    static async Task<Results<ServerSentEventsResult<OrderResponse>, NotFound>> StreamOrderStatus(
        Guid orderId, ClaimsPrincipal user, OrderBook orders, OrderStatusNotifier notifier, CancellationToken cancellationToken)
    {
        var first = await orders.ReadAsync(orderId, cancellationToken);
        if (first is null || !user.MayAccess(first.CustomerId))
            return TypedResults.NotFound();

        async IAsyncEnumerable<SseItem<OrderResponse>> Changes([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken token = default)
        {
            var order = first;
            yield return new SseItem<OrderResponse>(OrderResponse.From(order), "status");
            while (order.Status == OrderStatus.Pending && !token.IsCancellationRequested)
            {
                var changed = notifier.WaitForChangeAsync(orderId);
                Order next;
                try
                {
                    next = await orders.ReadAsync(orderId, token) ?? throw new InvalidOperationException($"Order {orderId} is gone while its status is streamed");
                    if (next.Status == order.Status)
                        next = await WaitAsync(changed, SafetyReReadInterval, token) ?? next;
                }
                finally
                {
                    notifier.Forget(orderId, changed);
                }

                if (next.Status != order.Status)
                {
                    order = next;
                    yield return new SseItem<OrderResponse>(OrderResponse.From(order), "status");
                }
            }
        }

        return TypedResults.ServerSentEvents(Changes(cancellationToken));
    }

    static async Task<Results<Ok<OrderResponse[]>, ValidationProblem, ForbidHttpResult>> ListOrders(
        string? customerId, int? limit, ClaimsPrincipal user, OrdersDbContext db, CancellationToken cancellationToken)
    {
        var validation = new Validation().Require(limit is null or (>= 1 and <= 500), "limit", "must be between 1 and 500");
        if (customerId is not null)
            validation.Identifier(customerId, "customerId");
        if (!validation.IsValid)
            return validation.ToProblem();
        if (customerId is null ? !user.IsInRole(Roles.Operator) : !user.MayAccess(customerId))
            return TypedResults.Forbid();

        var query = db.Orders.AsNoTracking();
        if (customerId is not null)
            query = query.Where(x => x.CustomerId == customerId);
        var orders = await query.OrderByDescending(x => x.CreatedAt).Take(limit ?? 20).ToListAsync(cancellationToken);
        return TypedResults.Ok(orders.Select(OrderResponse.From).ToArray());
    }

    /// <summary>
    /// How long a waiting status read relies on the notifier before it reads the database again. The notifier hears every
    /// replica's changes (<see cref="OrderStatusListener"/>), and after a lost connection it wakes every waiter to read
    /// again, so this re-read is only the safety net for a change that is never notified (a disabled trigger, say). Short
    /// intervals cost: every waiting request reads once per interval, so under overload, with many clients waiting, a
    /// short interval multiplies the Orders database's transactions per order (docs/benchmark.md).
    /// </summary>
    static readonly TimeSpan SafetyReReadInterval = TimeSpan.FromSeconds(5);

    /// <returns>The order as its change committed in this process, or null when the caller must read it again: the wait
    /// timed out, or the change was heard from the database.</returns>
    static async Task<Order?> WaitAsync(Task<Order?> changed, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await changed.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            return null; // the caller reads the order again
        }
    }
}
