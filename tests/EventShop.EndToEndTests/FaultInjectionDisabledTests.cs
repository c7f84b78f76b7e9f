using System.Net;
using System.Net.Http.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>In the production profile the fault routes do not exist, at the gateway nor at any service, even with <c>Faults__Enabled=true</c>.</summary>
[Collection(ProductionLikeSystemCollection.Name)]
public sealed class FaultInjectionDisabledTests(RateLimitedEventShopSystem system)
{
    [Fact]
    public async Task In_the_production_profile_Should_answer_404_on_every_fault_route()
    {
        // A subject of its own: the rate-limit tests of this system count requests per subject.
        using var gateway = system.Client(ShopClient.NewId("ops"), "operator");
        var rule = new { service = "accounts", messageType = "DebitCustomer", action = "fail" };

        Assert.Equal(HttpStatusCode.NotFound, (await gateway.PostAsJsonAsync("/api/faults", rule)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.GetAsync("/api/faults")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.DeleteAsync($"/api/faults/{Guid.NewGuid()}")).StatusCode);

        foreach (var service in new[] { "orders", "accounts", "points", "sagas" })
        {
            using var direct = system.Client("ops", "operator");
            direct.BaseAddress = system[service].BaseAddress;
            Assert.Equal(HttpStatusCode.NotFound, (await direct.PostAsJsonAsync("/api/faults", rule)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await direct.GetAsync("/api/faults")).StatusCode);
        }

        // And the table the rules would live in was never created.
        Assert.Equal(0, await Invariants.ScalarAsync(system.ConnectionString("Accounts"),
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'messaging' AND table_name = 'fault_rules'"));
    }
}
