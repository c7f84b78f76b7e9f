using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;
using EventShop.Messaging;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using System.Security.Claims;

namespace EventShop.Accounts.Apis;

public static class AccountsApi
{
    const int MaxReasonLength = 500;

    public static IEndpointRouteBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/accounts").WithTags("Accounts").RequireAuthorization(Policies.CustomerOrOperator);

        api.MapPost("/", OpenAccount).RequireAuthorization(Policies.Operator);
        api.MapGet("/{accountId}", GetAccount);
        api.MapGet("/{accountId}/ledger", GetLedger);
        api.MapPost("/{accountId}/adjustments", Adjust).RequireAuthorization(Policies.Operator);
        api.MapPost("/{accountId}/freeze", (string accountId, UnitOfWork unitOfWork, TimeProvider clock, CancellationToken ct) =>
            SetStatus(accountId, AccountStatus.Frozen, unitOfWork, clock, ct)).RequireAuthorization(Policies.Operator);
        api.MapPost("/{accountId}/unfreeze", (string accountId, UnitOfWork unitOfWork, TimeProvider clock, CancellationToken ct) =>
            SetStatus(accountId, AccountStatus.Active, unitOfWork, clock, ct)).RequireAuthorization(Policies.Operator);
        return app;
    }

    static async Task<Results<Created<AccountResponse>, ValidationProblem, ProblemHttpResult>> OpenAccount(
        OpenAccountRequest request, UnitOfWork unitOfWork, TimeProvider clock, CancellationToken cancellationToken)
    {
        var kind = request.Kind?.ToLowerInvariant() switch { "customer" => AccountKind.Customer, "merchant" => AccountKind.Merchant, _ => (AccountKind?)null };
        var validation = new Validation()
            .Identifier(request.AccountId, "accountId")
            .Require(kind is not null, "kind", "must be 'customer' or 'merchant'")
            .Require(request.Balance is not null, "balance", "is required");
        if (request.Balance is { } balance)
            validation.Money(balance, "balance", allowZero: true);
        if (!validation.IsValid)
            return validation.ToProblem();

        var account = Account.Open(request.AccountId!, kind!.Value, request.Balance!.Value, clock.GetUtcNow());
        unitOfWork.Insert(account);
        unitOfWork.Insert(account.OpeningEntry());
        try
        {
            await unitOfWork.CommitAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Account already exists",
                detail: $"An account with id '{request.AccountId}' already exists.");
        }

        return TypedResults.Created($"/api/accounts/{account.AccountId}", AccountResponse.From(account));
    }

    static async Task<Results<Ok<AccountResponse>, NotFound, ForbidHttpResult>> GetAccount(
        string accountId, ClaimsPrincipal user, AccountsDbContext db, CancellationToken cancellationToken)
    {
        if (!user.MayAccess(accountId))
            return TypedResults.Forbid();
        var account = await db.Accounts.AsNoTracking().SingleOrDefaultAsync(x => x.AccountId == accountId, cancellationToken);
        if (account is null)
            return TypedResults.NotFound();
        return MayRead(user, account.Kind) ? TypedResults.Ok(AccountResponse.From(account)) : TypedResults.Forbid();
    }

    static async Task<Results<Ok<LedgerEntryResponse[]>, NotFound, ForbidHttpResult>> GetLedger(
        string accountId, ClaimsPrincipal user, AccountsDbContext db, CancellationToken cancellationToken)
    {
        if (!user.MayAccess(accountId))
            return TypedResults.Forbid();
        var kind = await db.Accounts.AsNoTracking().Where(x => x.AccountId == accountId).Select(x => (AccountKind?)x.Kind)
            .SingleOrDefaultAsync(cancellationToken);
        if (kind is null)
            return TypedResults.NotFound();
        if (!MayRead(user, kind.Value))
            return TypedResults.Forbid();
        var entries = await db.Ledger.AsNoTracking().Where(x => x.AccountId == accountId).OrderBy(x => x.Id)
            .Select(x => new LedgerEntryResponse(x.OrderId, x.Type.ToString(), x.Amount, x.CreatedAt, x.Author, x.Reason))
            .ToArrayAsync(cancellationToken);
        return TypedResults.Ok(entries);
    }

    /// <summary>
    /// An operator's correction of a balance: the balance and an <c>Adjustment</c> ledger entry naming its author and reason
    /// move in one transaction, after the audit trail took the action. A retry with the same Idempotency-Key (per operator)
    /// and the same request answers as the first did and moves nothing; the same key for another request is refused (422).
    /// </summary>
    static async Task<Results<Created<AdjustmentResponse>, ValidationProblem, NotFound, ProblemHttpResult>> Adjust(
        string accountId, AdjustAccountRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        HttpContext context, UnitOfWork unitOfWork, AccountsDbContext db, AuditTrail audit, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Require(!string.IsNullOrEmpty(idempotencyKey) && idempotencyKey.Length <= 100, "Idempotency-Key", "header is required, 1 to 100 characters")
            .Require(request.Amount is not null, "amount", "is required")
            .Require(!string.IsNullOrWhiteSpace(request.Reason) && request.Reason.Length <= MaxReasonLength, "reason",
                $"is required, at most {MaxReasonLength} characters");
        if (request.Amount is { } requested)
        {
            validation.Require(requested != 0, "amount", "must not be zero")
                .Require(decimal.Round(requested, 2) == requested, "amount", "must have at most 2 decimals")
                .Require(Math.Abs(requested) <= 1_000_000_000m, "amount", "is too large");
        }
        if (!validation.IsValid)
            return validation.ToProblem();

        var author = context.User.FindFirst("sub")!.Value;
        var amount = request.Amount!.Value;
        // A retry is the rare case, but it must not be audited or checked against today's balance again: look first.
        if (await FindAdjustmentAsync(db, author, idempotencyKey!, cancellationToken) is { } earlier)
            return await ReplayAsync(earlier, accountId, amount, request.Reason!, db, cancellationToken);

        await unitOfWork.BeginAsync(cancellationToken);
        var account = await unitOfWork.LockAsync<Account>(accountId, cancellationToken);
        if (account is null)
            return TypedResults.NotFound();
        if (account.RejectAdjustment(amount) is { } rejection)
            return new Validation().Require(false, "amount", rejection).ToProblem();

        if (!await audit.RecordAsync("account.adjust", $"account/{accountId}", $"amount {amount:0.00}, balance {account.Balance:0.00}: {request.Reason}",
                context.Request.Headers.Authorization.ToString(), cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Audit trail unavailable",
                detail: "The adjustment was not made: it could not be recorded in the audit trail first.");
        }

        var entry = account.Adjust(amount, author, request.Reason!, idempotencyKey!, clock.GetUtcNow());
        unitOfWork.Insert(entry);
        unitOfWork.Update(account);
        try
        {
            await unitOfWork.CommitAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A concurrent request with the same key committed first: answer as it did.
            var winner = await FindAdjustmentAsync(db, author, idempotencyKey!, cancellationToken);
            return await ReplayAsync(winner!, accountId, amount, request.Reason!, db, cancellationToken);
        }

        return TypedResults.Created($"/api/accounts/{account.AccountId}/ledger", AdjustmentResponse.From(entry, account.Balance));
    }

    static Task<LedgerEntry?> FindAdjustmentAsync(AccountsDbContext db, string author, string idempotencyKey, CancellationToken cancellationToken) =>
        db.Ledger.AsNoTracking().SingleOrDefaultAsync(x => x.Author == author && x.IdempotencyKey == idempotencyKey, cancellationToken);

    static async Task<Results<Created<AdjustmentResponse>, ValidationProblem, NotFound, ProblemHttpResult>> ReplayAsync(
        LedgerEntry earlier, string accountId, decimal amount, string reason, AccountsDbContext db, CancellationToken cancellationToken)
    {
        if (earlier.AccountId != accountId || earlier.Amount != amount || earlier.Reason != reason)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused",
                detail: "This Idempotency-Key was already used for a different adjustment.");
        }
        var balance = await db.Accounts.AsNoTracking().Where(x => x.AccountId == accountId).Select(x => x.Balance).SingleAsync(cancellationToken);
        return TypedResults.Created($"/api/accounts/{accountId}/ledger", AdjustmentResponse.From(earlier, balance));
    }

    /// <summary>
    /// A customer's token names a customer: a merchant account whose id happens to equal the token's subject is not theirs
    /// (account ids and token subjects share one namespace, ADR 0020).
    /// </summary>
    static bool MayRead(ClaimsPrincipal user, AccountKind kind) => user.IsInRole(Roles.Operator) || kind == AccountKind.Customer;

    static async Task<Results<Ok<AccountResponse>, NotFound>> SetStatus(
        string accountId, AccountStatus status, UnitOfWork unitOfWork, TimeProvider clock, CancellationToken cancellationToken)
    {
        await unitOfWork.BeginAsync(cancellationToken);
        var account = await unitOfWork.LockAsync<Account>(accountId, cancellationToken);
        if (account is null)
            return TypedResults.NotFound();
        account.Status = status;
        account.UpdatedAt = clock.GetUtcNow();
        unitOfWork.Update(account);
        await unitOfWork.CommitAsync(cancellationToken);
        return TypedResults.Ok(AccountResponse.From(account));
    }
}
