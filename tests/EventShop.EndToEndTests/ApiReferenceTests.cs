using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>The API reference at the gateway lists every service's OpenAPI document, served through the gateway.</summary>
[Collection(SystemCollection.Name)]
public sealed class ApiReferenceTests(EventShopSystem system)
{
    [Theory]
    [InlineData("orders", "/api/orders/{orderId}")]
    [InlineData("accounts", "/api/accounts/{accountId}")]
    [InlineData("points", "/api/points/{customerId}")]
    [InlineData("sagas", "/api/sagas/{orderId}")]
    [InlineData("gateway", "/api/customers/{customerId}/summary")]
    public async Task When_a_document_is_requested_at_the_gateway_Should_describe_the_service_behind_the_gateway(string document, string path)
    {
        using var client = system.Client();

        var response = await client.GetAsync($"/openapi/{document}.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var openApi = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(openApi.GetProperty("paths").TryGetProperty(path, out _), $"{path} not in {document}: {openApi.GetProperty("paths")}");
        // "Try it" must go through the gateway, not straight to the service.
        var server = new Uri(openApi.GetProperty("servers")[0].GetProperty("url").GetString()!);
        Assert.Equal(system.GatewayAddress.Authority, server.Authority);
    }

    [Fact]
    public async Task When_the_reference_page_is_opened_Should_list_every_document()
    {
        using var client = system.Client();

        var page = await client.GetStringAsync("/scalar/");

        foreach (var document in new[] { "gateway", "orders", "accounts", "points", "sagas" })
            Assert.Contains($"openapi/{document}.json", page);
    }
}
