using System.Security.Claims;
using EventShop.Dashboard.Failures;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EventShop.Dashboard.Apis;

public sealed record FailureItem(string Id, string Service, string Queue, string Source, string MessageType, Guid? OrderId, string Error,
    DateTimeOffset? FailedAt, int Attempts, string Group);

public sealed record FailureGroup(string Key, string Service, string MessageType, string Error, int Count);

/// <param name="Unavailable">Sources that did not answer (the broker, a service's outbox): the list is partial without them.</param>
public sealed record FailureListResponse(FailureItem[] Items, FailureGroup[] Groups, string[] Unavailable);

public sealed record FailureDetail(string Id, string Service, string Queue, string Source, string MessageType, Guid? OrderId, string Error,
    DateTimeOffset? FailedAt, int Attempts, string Group, string MessageId, string? Body, IReadOnlyDictionary<string, string>? Headers);

public sealed record DiscardRequest(string? Reason);

public sealed record GroupRetryRequest(string? Group);

public sealed record GroupRetryResponse(string BatchId, string Group, int Retried, int Failed);

/// <param name="FailedAgain">Retried messages of the batch that are back in an error queue.</param>
public sealed record RetryBatchResponse(string BatchId, string Group, DateTimeOffset At, string Subject, int Retried, int Failed, int FailedAgain,
    string[] FailedAgainIds);

/// <summary>
/// Every message that left the normal flow, in one list: the broker's error queues (read here, ADR 0016) and each service's
/// parked outbox rows (read, retried and discarded by the service that owns them). Every action is recorded in the audit
/// trail before it is carried out; without the audit trail, no action.
/// </summary>
public static class FailuresApi
{
    public static IEndpointRouteBuilder MapFailuresApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/failures").WithTags("Failures").RequireAuthorization(Policies.Operator);
        api.MapGet("/", List);
        api.MapGet("/{id}", Get);
        api.MapPost("/{id}/retry", Retry);
        api.MapPost("/{id}/discard", Discard);
        api.MapPost("/retry", RetryGroup);
        api.MapGet("/retries/{batchId}", GetRetryBatch);
        return app;
    }

    static async Task<Results<Ok<FailureListResponse>, ValidationProblem>> List(string? service, string? messageType, int? limit,
        ErrorQueues errorQueues, ServiceApis services, HttpContext http, ILogger<ErrorQueues> logger, CancellationToken cancellationToken)
    {
        var validation = new Validation().Require(limit is null or (>= 1 and <= 1000), "limit", "must be between 1 and 1000");
        if (service is not null)
            validation.Identifier(service, "service", 64);
        if (messageType is not null)
            validation.Identifier(messageType, "messageType", 200);
        if (!validation.IsValid)
            return validation.ToProblem();

        var (all, unavailable) = await CollectAsync(errorQueues, services, Authorization(http), logger, cancellationToken);
        var matching = all
            .Where(x => service is null || string.Equals(x.Service, service, StringComparison.OrdinalIgnoreCase))
            .Where(x => messageType is null || string.Equals(x.MessageType, messageType, StringComparison.OrdinalIgnoreCase))
            .ToList();
        return TypedResults.Ok(Summarize(matching, unavailable, limit ?? 100));
    }

    /// <summary>The newest <paramref name="limit"/> failures and every group: what the list and the live view show.</summary>
    internal static FailureListResponse Summarize(IReadOnlyCollection<FailedMessage> matching, string[] unavailable, int limit)
    {
        var groups = matching.GroupBy(x => x.Group)
            .Select(g => new FailureGroup(g.Key, g.First().Service, g.First().MessageType, g.First().Error, g.Count()))
            .OrderByDescending(g => g.Count).ThenBy(g => g.Key, StringComparer.Ordinal).ToArray();
        var items = matching.OrderByDescending(x => x.FailedAt).ThenBy(x => x.Id, StringComparer.Ordinal).Take(limit)
            .Select(x => new FailureItem(x.Id, x.Service, x.Queue, x.Source, x.MessageType, x.OrderId, x.Error, x.FailedAt, x.Attempts, x.Group))
            .ToArray();
        return new FailureListResponse(items, groups, unavailable);
    }

    static async Task<Results<Ok<FailureDetail>, NotFound, ProblemHttpResult>> Get(string id, ErrorQueues errorQueues, ServiceApis services,
        HttpContext http, CancellationToken cancellationToken)
    {
        var found = await FindAsync(id, errorQueues, services, Authorization(http), cancellationToken);
        if (found is null)
            return TypedResults.NotFound();
        return TypedResults.Ok(new FailureDetail(found.Id, found.Service, found.Queue, found.Source, found.MessageType, found.OrderId, found.Error,
            found.FailedAt, found.Attempts, found.Group, found.MessageId, found.Body, found.Headers));
    }

    static async Task<Results<Accepted, NotFound, ProblemHttpResult>> Retry(string id, ErrorQueues errorQueues, ServiceApis services,
        HttpContext http, CancellationToken cancellationToken)
    {
        var authorization = Authorization(http);
        var found = await FindAsync(id, errorQueues, services, authorization, cancellationToken);
        if (found is null)
            return TypedResults.NotFound();
        if (await AuditAsync(services, "failure.retry", found, null, authorization, cancellationToken) is { } refused)
            return refused;

        var done = await ActAsync(found, ErrorQueueAction.Retry, errorQueues, services, authorization, cancellationToken);
        return done ? TypedResults.Accepted((string?)null) : TypedResults.NotFound();
    }

    static async Task<Results<Ok, NotFound, ValidationProblem, ProblemHttpResult>> Discard(string id, DiscardRequest request, ErrorQueues errorQueues,
        ServiceApis services, HttpContext http, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Require(!string.IsNullOrWhiteSpace(request.Reason), "reason", "is required")
            .Require(request.Reason is null || request.Reason.Length <= 500, "reason", "must be at most 500 characters");
        if (!validation.IsValid)
            return validation.ToProblem();

        var authorization = Authorization(http);
        var found = await FindAsync(id, errorQueues, services, authorization, cancellationToken);
        if (found is null)
            return TypedResults.NotFound();
        if (await AuditAsync(services, "failure.discard", found, request.Reason, authorization, cancellationToken) is { } refused)
            return refused;

        var done = await ActAsync(found, ErrorQueueAction.Discard, errorQueues, services, authorization, cancellationToken);
        return done ? TypedResults.Ok() : TypedResults.NotFound();
    }

    static async Task<Results<Accepted<GroupRetryResponse>, ValidationProblem, NotFound, ProblemHttpResult>> RetryGroup(GroupRetryRequest request,
        ErrorQueues errorQueues, ServiceApis services, RetryBatches batches, TimeProvider clock, HttpContext http, ILogger<ErrorQueues> logger,
        CancellationToken cancellationToken)
    {
        var validation = new Validation().Require(!string.IsNullOrWhiteSpace(request.Group) && request.Group.Length <= 100, "group", "is required");
        if (!validation.IsValid)
            return validation.ToProblem();

        var authorization = Authorization(http);
        var (all, _) = await CollectAsync(errorQueues, services, authorization, logger, cancellationToken);
        var members = all.Where(x => x.Group == request.Group).ToList();
        if (members.Count == 0)
            return TypedResults.NotFound();
        var first = members[0];
        if (await AuditAsync(services, "failure.retry-group", first, $"group {request.Group}: {members.Count} messages, {first.Error}",
                authorization, cancellationToken) is { } refused)
            return refused;

        // One walk per error queue retries every member met there; outbox rows go back to their services one by one.
        var retried = new List<string>();
        var failed = 0;
        foreach (var queue in members.Where(x => x.Source == "error-queue").Select(x => x.Queue).Distinct())
        {
            var wanted = members.Where(x => x.Queue == queue).Select(x => x.MessageId).ToHashSet(StringComparer.Ordinal);
            try
            {
                var met = await errorQueues.WalkAsync(queue, m => wanted.Contains(m.MessageId) ? ErrorQueueAction.Retry : ErrorQueueAction.Keep,
                    cancellationToken);
                retried.AddRange(met.Where(x => x.Done == ErrorQueueAction.Retry).Select(x => x.Message.MessageId));
                failed += wanted.Count - met.Count(x => x.Done == ErrorQueueAction.Retry);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Group retry in {Queue} failed", queue);
                failed += wanted.Count;
            }
        }
        foreach (var row in members.Where(x => x.Source == "outbox"))
        {
            if (await ActAsync(row, ErrorQueueAction.Retry, errorQueues, services, authorization, cancellationToken))
                retried.Add(row.MessageId);
            else
                failed++;
        }

        var batch = batches.Add(request.Group!, http.User.FindFirstValue("sub") ?? "unknown", retried, failed, clock.GetUtcNow());
        return TypedResults.Accepted($"/api/failures/retries/{batch.Id}", new GroupRetryResponse(batch.Id, batch.Group, retried.Count, failed));
    }

    static async Task<Results<Ok<RetryBatchResponse>, NotFound>> GetRetryBatch(string batchId, RetryBatches batches, ErrorQueues errorQueues,
        ServiceApis services, HttpContext http, ILogger<ErrorQueues> logger, CancellationToken cancellationToken)
    {
        if (batches.Find(batchId) is not { } batch)
            return TypedResults.NotFound();
        var (all, _) = await CollectAsync(errorQueues, services, Authorization(http), logger, cancellationToken);
        var retried = batch.MessageIds.ToHashSet(StringComparer.Ordinal);
        var again = all.Where(x => retried.Contains(x.MessageId)).Select(x => x.Id).ToArray();
        return TypedResults.Ok(new RetryBatchResponse(batch.Id, batch.Group, batch.At, batch.Subject, batch.MessageIds.Count, batch.Failed,
            again.Length, again));
    }

    internal static async Task<(List<FailedMessage> All, string[] Unavailable)> CollectAsync(ErrorQueues errorQueues, ServiceApis services,
        string authorization, ILogger logger, CancellationToken cancellationToken)
    {
        var all = new List<FailedMessage>();
        var unavailable = new List<string>();
        try
        {
            foreach (var queue in await errorQueues.QueuesAsync(cancellationToken))
                all.AddRange((await errorQueues.WalkAsync(queue, _ => ErrorQueueAction.Keep, cancellationToken)).Select(x => x.Message));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Reading the broker's error queues failed");
            unavailable.Add("broker");
        }

        var parked = await Task.WhenAll(ServiceApis.WithOutbox.Select(async service =>
        {
            try
            {
                return (service, rows: await services.ParkedAsync(service, 1000, authorization, cancellationToken));
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                logger.LogWarning(exception, "Reading the parked outbox rows of {Service} failed", service);
                return (service, rows: (ParkedMessage[]?)null);
            }
        }));
        foreach (var (service, rows) in parked)
        {
            if (rows is null)
            {
                unavailable.Add($"{service}-outbox");
                continue;
            }
            all.AddRange(rows.Select(row => new FailedMessage(FailureId.For(FailureId.Outbox, service, row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                service, row.DestinationAddress ?? "(published)", "outbox", row.MessageType.Split(':')[^1].Split('.')[^1].Split(',')[0], row.CorrelationId,
                "Outbox relay gave up: the broker did not confirm or could not route the message", row.CreatedAt, row.Attempts)
            {
                MessageId = row.MessageId.ToString(), Body = row.Body,
            }));
        }
        return (all, [.. unavailable]);
    }

    static async Task<FailedMessage?> FindAsync(string id, ErrorQueues errorQueues, ServiceApis services, string authorization,
        CancellationToken cancellationToken)
    {
        if (!FailureId.TryParse(id, out var kind, out var place, out var key))
            return null;
        if (kind == FailureId.ErrorQueue)
        {
            if (!place.EndsWith("_error", StringComparison.Ordinal))
                return null;
            var met = await errorQueues.WalkAsync(place, _ => ErrorQueueAction.Keep, cancellationToken);
            return met.Select(x => x.Message).FirstOrDefault(x => x.MessageId == key);
        }
        if (!ServiceApis.WithOutbox.Contains(place))
            return null;
        var rows = await services.ParkedAsync(place, 1000, authorization, cancellationToken);
        return rows.Where(row => row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == key)
            .Select(row => new FailedMessage(id, place, row.DestinationAddress ?? "(published)", "outbox", row.MessageType.Split(':')[^1].Split('.')[^1].Split(',')[0],
                row.CorrelationId, "Outbox relay gave up: the broker did not confirm or could not route the message", row.CreatedAt, row.Attempts)
            {
                MessageId = row.MessageId.ToString(), Body = row.Body,
            })
            .FirstOrDefault();
    }

    static async Task<bool> ActAsync(FailedMessage message, ErrorQueueAction action, ErrorQueues errorQueues, ServiceApis services,
        string authorization, CancellationToken cancellationToken)
    {
        if (message.Source == "outbox")
        {
            if (!FailureId.TryParse(message.Id, out _, out var service, out var rowId))
                return false;
            return await services.ParkedActionAsync(service, long.Parse(rowId, System.Globalization.CultureInfo.InvariantCulture),
                action == ErrorQueueAction.Retry ? "retry" : "discard", authorization, cancellationToken);
        }
        var met = await errorQueues.WalkAsync(message.Queue, m => m.MessageId == message.MessageId ? action : ErrorQueueAction.Keep, cancellationToken);
        return met.Any(x => x.Done == action);
    }

    /// <summary>Recorded before the action: an action the trail cannot record is not carried out.</summary>
    static async Task<ProblemHttpResult?> AuditAsync(ServiceApis services, string action, FailedMessage message, string? reason, string authorization,
        CancellationToken cancellationToken)
    {
        var detail = $"{message.Source} {message.Queue}, {message.MessageType}: {message.Error}";
        if (reason is not null)
            detail = $"reason: {reason}; {detail}";
        try
        {
            await services.RecordAsync(new AuditRecord(action, $"failure/{message.Id}", "dashboard", message.OrderId,
                detail.Length > 1000 ? detail[..1000] : detail), authorization, cancellationToken);
            return null;
        }
        catch (HttpRequestException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Audit trail unavailable",
                detail: "The action was not carried out: it could not be recorded in the audit trail. Try again shortly.");
        }
    }

    static string Authorization(HttpContext http) => http.Request.Headers.Authorization.ToString();
}
