using System.Security.Claims;
using EventShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventShop.Gateway.Apis;

/// <summary>Issues tokens for local development and tests. The route is not mapped outside the Development environment.</summary>
public static class DevTokenApi
{
    const int LifetimeSeconds = 3600;
    static readonly string[] KnownRoles = [Roles.Customer, Roles.Operator];

    public static WebApplication MapDevTokenApi(this WebApplication app)
    {
        if (app.Environment.IsDevelopment())
            app.MapPost("/dev/token", IssueToken).AllowAnonymous();
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
