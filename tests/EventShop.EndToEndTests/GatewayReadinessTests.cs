using System.Net;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>The gateway's /health says whether its routes can serve: it answers 503 while a destination is down.</summary>
[Collection(SystemCollection.Name)]
public sealed class GatewayReadinessTests(EventShopSystem system)
{
    [Fact]
    public async Task When_a_destination_is_down_Should_the_gateway_be_unready_until_it_is_back()
    {
        using var client = system.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);

        // The dashboard: a destination like the others, and the quickest to restart (no database, no bus).
        await system.KillAsync("dashboard");
        try
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
            // The proxy's own failure to reach it is a problem document too.
            var unreachable = await client.GetAsync("/dashboard/");
            Assert.True(unreachable.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, $"{unreachable.StatusCode}");
            await ProblemAssert.IsProblemAsync(unreachable, (int)unreachable.StatusCode, field: null);
        }
        finally
        {
            await system.RestartAsync("dashboard");
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }
}
