using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>POST /api/orders through the gateway: idempotency and every validation rule of docs/api.md, checked in the Orders database.</summary>
[Collection(SystemCollection.Name)]
public sealed class OrderSubmissionContractTests(EventShopSystem system)
{
    readonly ShopClient _shop = new(system);
    readonly OrdersDatabase _orders = new(system);

    [Fact]
    public async Task When_the_same_key_is_sent_ten_times_concurrently_Should_create_one_order_and_one_debit()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { customerId = customer, merchantId = merchant, items = new[] { new { sku = "SKU-1", quantity = 2, unitPrice = 7.25m } } };

        using var client = system.Customer(customer);
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => ShopClient.SubmitOrderRawAsync(client, key, body)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var orderIds = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid()));
        var orderId = Assert.Single(orderIds.Distinct());
        Assert.Equal(1, await _orders.CountOrdersAsync(customer));
        Assert.Equal([("SKU-1", 2, 7.25m)], await _orders.ItemsAsync(orderId)); // the requests that lost the race stored no items
        var outcome = await _shop.WaitForOutcomeAsync(orderId);
        var ledger = await _shop.LedgerAsync(customer);
        Assert.True(outcome.Status == "Completed", $"{outcome.Status}: {outcome.FailureReason}");
        var debit = Assert.Single(ledger, e => e.Type == "Debit");
        Assert.Equal(-14.50m, debit.Amount);
        Assert.Equal(85.50m, (await _shop.AccountAsync(customer)).Balance);
    }

    [Fact]
    public async Task When_an_order_has_several_items_Should_store_each_one_and_charge_their_total()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        var body = new
        {
            customerId = customer, merchantId = merchant,
            items = new[] { new { sku = "SKU-A", quantity = 3, unitPrice = 1.10m }, new { sku = "SKU-B", quantity = 1, unitPrice = 20.00m }, new { sku = "SKU-C", quantity = 2, unitPrice = 0.45m } },
        };
        using var client = system.Customer(customer);

        var response = await ShopClient.SubmitOrderRawAsync(client, Guid.NewGuid().ToString(), body);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var orderId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid();
        Assert.Equal([("SKU-A", 3, 1.10m), ("SKU-B", 1, 20.00m), ("SKU-C", 2, 0.45m)], await _orders.ItemsAsync(orderId));
        var outcome = await _shop.WaitForOutcomeAsync(orderId);
        Assert.True(outcome.Status == "Completed", $"{outcome.Status}: {outcome.FailureReason}");
        Assert.Equal(24.20m, outcome.Total);
        Assert.Equal(100m - 24.20m, (await _shop.AccountAsync(customer)).Balance);
    }

    [Fact]
    public async Task When_the_same_key_comes_with_a_different_body_Should_answer_422_and_keep_the_first_order()
    {
        var customer = ShopClient.NewId("cust");
        var key = Guid.NewGuid().ToString();
        using var client = system.Customer(customer);

        var first = await ShopClient.SubmitOrderRawAsync(client, key, Order(customer, unitPrice: 5m));
        var second = await ShopClient.SubmitOrderRawAsync(client, key, Order(customer, unitPrice: 6m));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, await _orders.CountOrdersAsync(customer));
    }

    public static TheoryData<string, string, string, string> InvalidOrders => new()
    {
        // case, body ({customer} is replaced), Idempotency-Key ("-" = none, "long" = 101 characters), field named in the errors
        { "no items", """{"customerId":"{customer}","merchantId":"shop","items":[]}""", "key", "items" },
        { "quantity below 1", """{"customerId":"{customer}","merchantId":"shop","items":[{"sku":"A-1","quantity":0,"unitPrice":1.00}]}""", "key", "items[0].quantity" },
        { "zero price", """{"customerId":"{customer}","merchantId":"shop","items":[{"sku":"A-1","quantity":1,"unitPrice":0}]}""", "key", "items[0].unitPrice" },
        { "negative price", """{"customerId":"{customer}","merchantId":"shop","items":[{"sku":"A-1","quantity":1,"unitPrice":-3.00}]}""", "key", "items[0].unitPrice" },
        { "three decimals", """{"customerId":"{customer}","merchantId":"shop","items":[{"sku":"A-1","quantity":1,"unitPrice":1.005}]}""", "key", "items[0].unitPrice" },
        { "unknown field", """{"customerId":"{customer}","merchantId":"shop","colour":"red","items":[{"sku":"A-1","quantity":1,"unitPrice":1.00}]}""", "key", "colour" },
        { "oversized body", """{"customerId":"{customer}","merchantId":"shop","items":[{"sku":"A-1","quantity":1,"unitPrice":1.00,"note":"{padding}"}]}""", "key", "body" },
        { "someone else's customer id", """{"customerId":"someone-else","merchantId":"shop","items":[{"sku":"A-1","quantity":1,"unitPrice":1.00}]}""", "key", "customerId" },
        { "missing Idempotency-Key", """{"customerId":"{customer}","merchantId":"shop","items":[{"sku":"A-1","quantity":1,"unitPrice":1.00}]}""", "-", "Idempotency-Key" },
        { "Idempotency-Key too long", """{"customerId":"{customer}","merchantId":"shop","items":[{"sku":"A-1","quantity":1,"unitPrice":1.00}]}""", "long", "Idempotency-Key" },
    };

    [Theory]
    [MemberData(nameof(InvalidOrders))]
    public async Task When_the_order_is_invalid_Should_answer_400_naming_the_field_and_store_nothing(string @case, string body, string key, string field)
    {
        var customer = ShopClient.NewId("cust");
        var ordersBefore = await _orders.CountAllOrdersAsync();
        var outboxBefore = await _orders.OutboxSequenceAsync();
        using var client = system.Customer(customer);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/orders")
        {
            Content = new StringContent(body.Replace("{customer}", customer).Replace("{padding}", new string('x', 70_000)), Encoding.UTF8, "application/json"),
        };
        if (key != "-")
            request.Headers.Add("Idempotency-Key", key == "long" ? new string('k', 101) : Guid.NewGuid().ToString());

        var response = await client.SendAsync(request);

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{@case}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), $"{@case}: no error for '{field}' in {problem}");
        Assert.NotEmpty(messages.EnumerateArray());

        Assert.Equal(0, await _orders.CountOrdersAsync(customer));
        Assert.Equal(ordersBefore, await _orders.CountAllOrdersAsync());
        Assert.Equal(outboxBefore, await _orders.OutboxSequenceAsync());
        Assert.Equal(0, await _orders.CountOutboxRowsMentioningAsync(customer));
    }

    static object Order(string customer, decimal unitPrice) =>
        new { customerId = customer, merchantId = "shop", items = new[] { new { sku = "SKU-1", quantity = 1, unitPrice } } };
}
