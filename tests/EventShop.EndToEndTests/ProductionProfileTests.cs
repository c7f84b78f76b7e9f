using System.Net;
using System.Net.Http.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// The production profile (ADR 0020, docs/security.md): whatever is not explicitly a developer's machine has no token mint,
/// so nobody can make themselves an operator, and the dashboard page, which signs itself in through that route only in
/// Development, must be given a token.
/// </summary>
[Collection(ProductionLikeSystemCollection.Name)]
public sealed class ProductionProfileTests(RateLimitedEventShopSystem system)
{
    [Fact]
    public async Task In_the_production_profile_Should_have_no_dev_token_route()
    {
        using var anonymous = system.Client();
        var request = new { subject = "mallory", roles = new[] { "operator" } };

        // From the loopback interface too: the route does not exist, not merely refuse.
        var response = await anonymous.PostAsJsonAsync("/dev/token", request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        foreach (var service in EventShopSystem.Services.Select(s => s.Name).Where(n => n != "gateway"))
        {
            using var direct = new HttpClient { BaseAddress = system[service].BaseAddress };
            Assert.Equal(HttpStatusCode.NotFound, (await direct.PostAsJsonAsync("/dev/token", request)).StatusCode);
        }
    }

    [Fact]
    public async Task A_service_given_only_its_runtime_role_Should_wait_for_its_migrate_command_and_then_serve()
    {
        // The fixture started each service without its owner role's connection string, saw it wait for its migrations, then
        // ran its 'migrate' command (ADR 0020): a service that tried to migrate itself, or served an unmigrated database,
        // would have failed the fixture.
        Assert.Equal(["accounts", "orders", "points", "sagas"], system.ServicesThatWaitedForMigrations.Order());

        using var operatorClient = system.Client(ShopClient.NewId("ops"), "operator");
        var accountId = ShopClient.NewId("migrated");
        var opened = await operatorClient.PostAsJsonAsync("/api/accounts", new { accountId, kind = "customer", balance = 10m });

        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
    }

    [Fact]
    public async Task In_the_production_profile_Should_still_serve_tokens_of_the_configured_issuer()
    {
        using var client = system.Client(ShopClient.NewId("ops"), "operator");

        var response = await client.GetAsync("/api/sagas?limit=1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
