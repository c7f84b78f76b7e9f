using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>GET /api/customers/{id}/summary: one call at the gateway that reads Accounts, Points and Orders, and degrades.</summary>
[Collection(SystemCollection.Name)]
public sealed class CustomerSummaryTests(EventShopSystem system)
{
    readonly ShopClient _shop = new(system);

    /// <summary>A customer with one finished order, so every part of the summary has something in it.</summary>
    async Task<(string Customer, OrderView Order)> CustomerWithOrderAsync()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        return (customer, await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 20m)));
    }

    static async Task<JsonElement> SummaryAsync(HttpClient client, string customer)
    {
        var response = await client.GetAsync($"/api/customers/{customer}/summary");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    static string[] Missing(JsonElement summary) => summary.GetProperty("missing").EnumerateArray().Select(x => x.GetString()!).ToArray();

    [Fact]
    public async Task When_a_customer_reads_its_own_summary_Should_get_account_points_and_recent_orders()
    {
        var (customer, order) = await CustomerWithOrderAsync();
        using var client = system.Customer(customer);

        var summary = await SummaryAsync(client, customer);

        Assert.Empty(Missing(summary));
        Assert.Equal(customer, summary.GetProperty("customerId").GetString());
        Assert.Equal((await _shop.AccountAsync(customer)).Balance, summary.GetProperty("account").GetProperty("balance").GetDecimal());
        Assert.Equal((await _shop.PointsAsync(customer)).Balance, summary.GetProperty("points").GetProperty("balance").GetInt64());
        var recent = Assert.Single(summary.GetProperty("recentOrders").EnumerateArray());
        Assert.Equal(order.OrderId, recent.GetProperty("orderId").GetGuid());
        Assert.Equal(order.Status, recent.GetProperty("status").GetString());
    }

    [Fact]
    public async Task When_an_operator_reads_any_summary_Should_get_it_and_a_customer_may_not()
    {
        var (customer, _) = await CustomerWithOrderAsync();
        using var operatorClient = system.Operator();
        using var otherCustomer = system.Customer(ShopClient.NewId("cust"));

        var summary = await SummaryAsync(operatorClient, customer);
        var refused = await otherCustomer.GetAsync($"/api/customers/{customer}/summary");

        Assert.Empty(Missing(summary));
        Assert.Equal(customer, summary.GetProperty("account").GetProperty("accountId").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task When_the_customer_has_no_account_Should_answer_with_a_null_account_that_is_not_missing()
    {
        // Known to Orders only: an order was placed (and cancelled, for want of an account).
        var (_, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        var customer = ShopClient.NewId("cust");
        await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 5m));
        using var client = system.Customer(customer);

        var summary = await SummaryAsync(client, customer);

        Assert.Empty(Missing(summary));
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("account").ValueKind);
        Assert.Equal(0, summary.GetProperty("points").GetProperty("balance").GetInt64());
        Assert.Single(summary.GetProperty("recentOrders").EnumerateArray());
    }

    [Fact]
    public async Task When_the_customer_is_unknown_everywhere_Should_answer_404_problem()
    {
        using var client = system.Operator();

        var response = await client.GetAsync($"/api/customers/{ShopClient.NewId("nobody")}/summary");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task When_the_customer_id_is_malformed_Should_answer_400_naming_it()
    {
        using var client = system.Operator();

        var response = await client.GetAsync("/api/customers/bad%20id!/summary");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("customerId", out _), problem.ToString());
    }

    [Fact]
    public async Task When_points_is_down_Should_answer_with_the_other_parts_and_name_points_missing_until_it_is_back()
    {
        var (customer, order) = await CustomerWithOrderAsync();
        var balance = (await _shop.AccountAsync(customer)).Balance;
        using var client = system.Customer(customer);

        await system.KillAsync("points");
        try
        {
            var clock = Stopwatch.StartNew();
            var degraded = await SummaryAsync(client, customer);

            Assert.Equal(["points"], Missing(degraded));
            Assert.Equal(JsonValueKind.Null, degraded.GetProperty("points").ValueKind);
            Assert.Equal(balance, degraded.GetProperty("account").GetProperty("balance").GetDecimal());
            Assert.Equal(order.OrderId, Assert.Single(degraded.GetProperty("recentOrders").EnumerateArray()).GetProperty("orderId").GetGuid());
            // A dead service costs at most the part timeout (2 s), not a hung request.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the degraded summary took {clock.Elapsed}");
        }
        finally
        {
            await system.RestartAsync("points");
        }

        // Healthy again does not mean warm: the first calls to a freshly started service may still miss the part timeout.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var whole = await SummaryAsync(client, customer);
        while (Missing(whole).Length > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            whole = await SummaryAsync(client, customer);
        }

        Assert.Empty(Missing(whole));
        Assert.Equal((await _shop.PointsAsync(customer)).Balance, whole.GetProperty("points").GetProperty("balance").GetInt64());
    }
}
