using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventShop.ServiceDefaults;

public static class JsonDefaults
{
    /// <summary>
    /// Unknown JSON fields are an error, not silently dropped: a client that misspells a field learns it at once. Numbers are
    /// numbers: the web defaults would also read <c>"quantity":"1"</c>, and a client that sends strings learns it at once too.
    /// </summary>
    public static IHostApplicationBuilder UseStrictJson(this IHostApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        });
        return builder;
    }
}
