using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>Query parameters are checked, not ignored, and read the way a user writes them (state names in any letter case).</summary>
[Collection(SystemCollection.Name)]
public sealed class QueryValidationTests(EventShopSystem system)
{
    readonly ShopClient _shop = new(system);

    [Theory]
    [InlineData("cancelled")]
    [InlineData("CANCELLED")]
    [InlineData("Cancelled")]
    public async Task When_a_saga_state_is_named_in_any_letter_case_Should_list_the_sagas_in_it(string state)
    {
        var orderId = await CancelledOrderAsync();
        using var client = system.Operator();

        var list = await client.GetFromJsonAsync<JsonElement>($"/api/sagas?state={state}&limit=1000");

        var items = list.GetProperty("items").EnumerateArray().ToArray();
        Assert.Contains(items, item => item.GetProperty("orderId").GetGuid() == orderId);
        Assert.All(items, item => Assert.Equal("Cancelled", item.GetProperty("state").GetString()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(60)]
    public async Task When_waitForCompletion_is_within_0_to_60_Should_answer_the_order(int seconds)
    {
        var orderId = await CancelledOrderAsync();
        using var client = system.Operator();

        var response = await client.GetAsync($"/api/orders/{orderId}?waitForCompletion={seconds}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task When_a_quantity_is_sent_as_a_string_Should_reject_the_order_and_store_nothing()
    {
        var customer = ShopClient.NewId("cust");
        using var client = system.Customer(customer);

        var response = await ShopClient.SubmitOrderRawAsync(client, Guid.NewGuid().ToString(),
            new { customerId = customer, merchantId = "shop", items = new[] { new { sku = "A-1", quantity = "1", unitPrice = 1.00m } } });

        await ProblemAssert.IsProblemAsync(response, 400, "items[0].quantity");
        using var operatorClient = system.Operator();
        var orders = await operatorClient.GetFromJsonAsync<JsonElement>($"/api/orders?customerId={customer}");
        Assert.Equal(0, orders.GetArrayLength());
    }

    /// <summary>An order of a customer without an account: the saga ends it Cancelled within a second or two.</summary>
    async Task<Guid> CancelledOrderAsync()
    {
        var (_, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        var orderId = await _shop.SubmitOrderAsync(ShopClient.NewId("cust"), merchant, unitPrice: 1m);
        Assert.Equal("Cancelled", (await _shop.WaitForOutcomeAsync(orderId)).Status);
        return orderId;
    }
}
