using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace EventShop.ServiceDefaults;

public static class AuthenticationExtensions
{
    /// <summary>JWT bearer validation in every service too, not only at the gateway: a service reached directly still demands a valid token.</summary>
    public static IHostApplicationBuilder AddEventShopAuthentication(this IHostApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(JwtSettings.Section).Get<JwtSettings>() ?? new JwtSettings();
        var publicKey = settings.CreatePublicKey();
        if (publicKey is null && string.IsNullOrWhiteSpace(settings.Authority))
        {
            throw new InvalidOperationException(
                "Auth:Authority (an OIDC provider) or Auth:PublicKey / Auth:PublicKeyFile (the development issuer's public key) is not configured. " +
                "The run command generates the development issuer's keys into .run/secrets.");
        }

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(options =>
            {
                options.MapInboundClaims = false;
                if (publicKey is null)
                {
                    options.Authority = settings.Authority;
                    options.RequireHttpsMetadata = settings.RequireHttpsMetadata;
                }
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = settings.Issuer,
                    ValidAudience = settings.Audience,
                    // Null with an Authority: the keys come from its JWKS.
                    IssuerSigningKey = publicKey,
                    ValidateIssuerSigningKey = true,
                    ValidAlgorithms = JwtSettings.Algorithms,
                    RequireSignedTokens = true,
                    RequireExpirationTime = true,
                    ValidateLifetime = true,
                    ClockSkew = TimeSpan.FromSeconds(30),
                    RoleClaimType = "role",
                    NameClaimType = "sub",
                };
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Operator, policy => policy.RequireRole(Roles.Operator))
            .AddPolicy(Policies.CustomerOrOperator, policy => policy.RequireRole(Roles.Customer, Roles.Operator));
        return builder;
    }

    /// <summary>Customers may only touch their own data; operators may touch everything.</summary>
    public static bool MayAccess(this ClaimsPrincipal user, string customerId) =>
        user.IsInRole(Roles.Operator) || (user.IsInRole(Roles.Customer) && user.FindFirst("sub")?.Value == customerId);
}
