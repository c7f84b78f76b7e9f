using System.Security.Claims;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventShop.Gateway.Apis;

/// <summary>
/// Issues tokens for local development and tests. The route is not mapped outside the Development environment (ADR 0020), and
/// answers only callers on this machine's loopback interface unless <c>DevIssuer:LoopbackOnly</c> is false (compose, where
/// the caller comes through Docker's bridge to a port published on 127.0.0.1 only).
/// </summary>
public static class DevTokenApi
{
    const int LifetimeSeconds = 3600;
    static readonly string[] KnownRoles = [Roles.Customer, Roles.Operator];

    public static WebApplication MapDevTokenApi(this WebApplication app)
    {
        if (!app.Environment.IsDeveloperMachine())
            return app;
        var route = app.MapPost("/dev/token", IssueToken).AllowAnonymous();
        if (app.Configuration.GetValue("DevIssuer:LoopbackOnly", true))
        {
            route.AddEndpointFilter((context, next) =>
                context.HttpContext.Connection.RemoteIpAddress is { } caller && System.Net.IPAddress.IsLoopback(caller)
                    ? next(context)
                    : ValueTask.FromResult<object?>(TypedResults.NotFound()));
        }
        return app;
    }

    static async Task<Results<Ok<DevTokenResponse>, ValidationProblem>> IssueToken(HttpRequest request, IConfiguration configuration, TimeProvider clock)
    {
        var (body, problem) = await JsonBody.ReadAsync<DevTokenRequest>(request);
        if (problem is not null)
            return problem;

        var validation = new Validation()
            .Identifier(body!.Subject, "subject")
            .Require(body.Roles is { Length: > 0 } && body.Roles.All(KnownRoles.Contains), "roles", "must list one or more of 'customer', 'operator'");
        if (!validation.IsValid)
            return validation.ToProblem();

        var settings = configuration.GetSection(JwtSettings.Section).Get<JwtSettings>() ?? new JwtSettings();
        var now = clock.GetUtcNow().UtcDateTime;
        var claims = new List<Claim> { new("sub", body.Subject!) };
        claims.AddRange(body.Roles!.Distinct().Select(role => new Claim("role", role)));

        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddSeconds(LifetimeSeconds),
            SigningCredentials = new SigningCredentials(settings.CreateKey(), SecurityAlgorithms.HmacSha256),
        });
        return TypedResults.Ok(new DevTokenResponse(token, LifetimeSeconds));
    }
}
