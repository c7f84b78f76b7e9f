using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EventShop.Gateway.Apis;

/// <summary>
/// Issues tokens for local development and tests, signed by the <see cref="DevIssuer"/>. The route exists only in the
/// Development profile with the issuer's private key configured (ADR 0020), and answers only callers on this machine's
/// loopback interface unless <c>DevIssuer:LoopbackOnly</c> is false (compose, where the caller comes through Docker's bridge
/// to a port published on 127.0.0.1 only).
/// </summary>
public static class DevTokenApi
{
    static readonly string[] KnownRoles = [Roles.Customer, Roles.Operator];

    public static IHostApplicationBuilder AddDevIssuer(this IHostApplicationBuilder builder)
    {
        if (DevIssuer.Create(builder.Configuration, builder.Environment) is { } issuer)
            builder.Services.AddSingleton(issuer);
        return builder;
    }

    public static WebApplication MapDevTokenApi(this WebApplication app)
    {
        if (app.Services.GetService<DevIssuer>() is null)
            return app;
        var route = app.MapPost("/dev/token", IssueToken).AllowAnonymous();
        if (app.Configuration.GetValue($"{DevIssuer.Section}:LoopbackOnly", true))
        {
            route.AddEndpointFilter((context, next) =>
                context.HttpContext.Connection.RemoteIpAddress is { } caller && System.Net.IPAddress.IsLoopback(caller)
                    ? next(context)
                    : ValueTask.FromResult<object?>(TypedResults.NotFound()));
        }
        return app;
    }

    static async Task<Results<Ok<DevTokenResponse>, ValidationProblem>> IssueToken(HttpRequest request, DevIssuer issuer)
    {
        var (body, problem) = await JsonBody.ReadAsync<DevTokenRequest>(request);
        if (problem is not null)
            return problem;

        var validation = new Validation()
            .Identifier(body!.Subject, "subject")
            .Require(body.Roles is { Length: > 0 } && body.Roles.All(KnownRoles.Contains), "roles", "must list one or more of 'customer', 'operator'");
        if (!validation.IsValid)
            return validation.ToProblem();

        var token = issuer.Issue(body.Subject!, body.Roles!, DevIssuer.Lifetime);
        return TypedResults.Ok(new DevTokenResponse(token, (int)DevIssuer.Lifetime.TotalSeconds));
    }
}
