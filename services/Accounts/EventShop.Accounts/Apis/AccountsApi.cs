using EventShop.Accounts.Domain;
using EventShop.Accounts.Infrastructure;
using EventShop.Messaging;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using System.Security.Claims;

namespace EventShop.Accounts.Apis;

public static class AccountsApi
{
    public static IEndpointRouteBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/accounts").WithTags("Accounts").RequireAuthorization(Policies.CustomerOrOperator);

        api.MapPost("/", OpenAccount).RequireAuthorization(Policies.Operator);
        api.MapGet("/{accountId}", GetAccount);
        api.MapGet("/{accountId}/ledger", GetLedger);
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
            .Select(x => new LedgerEntryResponse(x.OrderId, x.Type.ToString(), x.Amount, x.CreatedAt))
            .ToArrayAsync(cancellationToken);
        return TypedResults.Ok(entries);
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
