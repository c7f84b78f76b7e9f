using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace EventShop.ServiceDefaults;

/// <summary>
/// Two profiles, one switch (ADR 0020): the Development environment is a developer's machine (the local run and the tests),
/// where dev tokens and fault injection may be turned on; every other environment is production, where they cannot be,
/// whatever else the configuration says. Absent or misspelt, <c>ASPNETCORE_ENVIRONMENT</c> means production.
/// </summary>
public static class Profiles
{
    public static bool IsDeveloperMachine(this IHostEnvironment environment) => environment.IsDevelopment();

    /// <summary>Overrides the developer-only switches last, so no configuration source can turn them on in production.</summary>
    internal static IHostApplicationBuilder ApplyProfile(this IHostApplicationBuilder builder)
    {
        if (!builder.Environment.IsDeveloperMachine())
            builder.Configuration.AddInMemoryCollection([new("Faults:Enabled", "false")]);
        return builder;
    }
}
