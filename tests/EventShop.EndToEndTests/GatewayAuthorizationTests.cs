using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using EventShop.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventShop.EndToEndTests;

/// <summary>Who may do what, at the gateway and at each service reached directly (docs/api.md, "Who may call what").</summary>
[Collection(SystemCollection.Name)]
public sealed class GatewayAuthorizationTests(EventShopSystem system)
{
    static readonly string[] OperatorRole = ["operator"];

    readonly ShopClient _shop = new(system);

    [Theory]
    [InlineData("GET", "/api/orders/5b0f6a52-6f1e-4a43-9a4c-3f1f1f0c2a11")]
    [InlineData("POST", "/api/orders")]
    [InlineData("GET", "/api/accounts/alice")]
    [InlineData("GET", "/api/points/alice")]
    [InlineData("GET", "/api/sagas")]
    [InlineData("GET", "/api/customers/alice/summary")]
    public async Task When_no_token_is_sent_Should_answer_401(string method, string path)
    {
        using var client = system.Client();

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task When_the_token_is_signed_with_another_key_Should_answer_401()
    {
        using var client = system.Client();
        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "eventshop",
            Audience = "eventshop-api",
            Subject = new ClaimsIdentity([new Claim("sub", "alice"), new Claim("role", "operator")]),
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(48)), SecurityAlgorithms.HmacSha256),
        });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", forged);

        var response = await client.GetAsync("/api/accounts/alice");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    /// <summary>
    /// A service's configuration holds only the issuer's public key (ADR 0020). Whatever can be made from it, or without any
    /// key, is refused by the gateway and by every service reached directly: HMAC keyed with the public key (the classic
    /// algorithm confusion), an unsigned token, and a token of another EC key.
    /// </summary>
    [Theory]
    [InlineData("hmac-with-the-public-key")]
    [InlineData("hmac-with-the-public-key-text")]
    [InlineData("unsigned")]
    [InlineData("another-ec-key")]
    public async Task When_the_token_is_made_from_what_a_service_holds_Should_answer_401(string forgery)
    {
        var publicKey = Convert.FromBase64String(system.IssuerPublicKey);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = "eventshop",
            Audience = "eventshop-api",
            Subject = new ClaimsIdentity([new Claim("sub", "mallory"), new Claim("role", "operator")]),
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = forgery switch
            {
                "hmac-with-the-public-key" => new SigningCredentials(new SymmetricSecurityKey(publicKey), SecurityAlgorithms.HmacSha256),
                "hmac-with-the-public-key-text" => new SigningCredentials(
                    new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(system.IssuerPublicKey)), SecurityAlgorithms.HmacSha256),
                "another-ec-key" => new SigningCredentials(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)), SecurityAlgorithms.EcdsaSha256),
                _ => null,
            },
        };
        var forged = new JsonWebTokenHandler().CreateToken(descriptor);

        foreach (var (address, path) in new[]
                 {
                     (system.GatewayAddress, "/api/sagas"), (system["orders"].BaseAddress, "/api/orders?customerId=alice"),
                     (system["accounts"].BaseAddress, "/api/accounts/alice"), (system["points"].BaseAddress, "/api/points/alice"),
                     (system["sagas"].BaseAddress, "/api/sagas"),
                 })
        {
            using var client = new HttpClient { BaseAddress = address };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", forged);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(path)).StatusCode);
        }
    }

    [Fact]
    public async Task A_dev_token_Should_be_signed_ES256_live_15_minutes_and_be_accepted()
    {
        using var anonymous = system.Client();

        var response = await anonymous.PostAsJsonAsync("/dev/token", new { subject = ShopClient.NewId("ops"), roles = OperatorRole });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.Equal(900, body.GetProperty("expiresIn").GetInt32());
        var token = new JsonWebToken(body.GetProperty("accessToken").GetString());
        Assert.Equal("ES256", token.Alg);
        Assert.True(token.ValidTo - token.IssuedAt <= TimeSpan.FromMinutes(15));
        using var client = system.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.EncodedToken);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/sagas?limit=1")).StatusCode);
    }

    [Theory]
    [InlineData("POST", "/api/accounts")]
    [InlineData("GET", "/api/sagas")]
    [InlineData("GET", "/api/sagas/5b0f6a52-6f1e-4a43-9a4c-3f1f1f0c2a11")]
    public async Task When_a_customer_calls_an_operator_route_Should_answer_403(string method, string path)
    {
        var customer = ShopClient.NewId("cust");
        using var client = system.Customer(customer);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
            request.Content = JsonContent.Create(new { accountId = customer, kind = "customer", balance = 1_000_000m });

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var operatorClient = system.Operator();
        if (method == "POST")
            Assert.Equal(HttpStatusCode.NotFound, (await operatorClient.GetAsync($"/api/accounts/{customer}")).StatusCode);
    }

    [Fact]
    public async Task When_a_customer_reads_another_customers_data_Should_be_refused()
    {
        var (owner, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        var orderId = await _shop.SubmitOrderAsync(owner, merchant, unitPrice: 5m);
        using var intruder = system.Customer(ShopClient.NewId("cust"));

        // An order of someone else does not exist as far as the intruder can tell.
        Assert.Equal(HttpStatusCode.NotFound, (await intruder.GetAsync($"/api/orders/{orderId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await intruder.GetAsync($"/api/orders/{orderId}/events")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await intruder.GetAsync($"/api/orders?customerId={owner}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await intruder.GetAsync($"/api/accounts/{owner}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await intruder.GetAsync($"/api/accounts/{owner}/ledger")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await intruder.GetAsync($"/api/points/{owner}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await intruder.GetAsync($"/api/customers/{owner}/summary")).StatusCode);

        // The owner itself may read all of it.
        using var ownerClient = system.Customer(owner);
        Assert.Equal(HttpStatusCode.OK, (await ownerClient.GetAsync($"/api/orders/{orderId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ownerClient.GetAsync($"/api/accounts/{owner}")).StatusCode);
    }

    [Fact]
    public async Task When_a_customer_token_names_a_merchant_account_Should_be_refused_its_account_and_ledger()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync();
        await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 5m));
        // Token subjects and account ids share one namespace: a customer token whose subject is the merchant's id.
        using var lookalike = system.Customer(merchant);

        Assert.Equal(HttpStatusCode.Forbidden, (await lookalike.GetAsync($"/api/accounts/{merchant}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await lookalike.GetAsync($"/api/accounts/{merchant}/ledger")).StatusCode);
        using var operatorClient = system.Operator();
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.GetAsync($"/api/accounts/{merchant}/ledger")).StatusCode);
    }

    [Theory]
    [InlineData("orders", "/api/orders/5b0f6a52-6f1e-4a43-9a4c-3f1f1f0c2a11")]
    [InlineData("accounts", "/api/accounts/alice")]
    [InlineData("points", "/api/points/alice")]
    [InlineData("sagas", "/api/sagas")]
    public async Task When_a_service_is_called_directly_without_a_token_Should_answer_401(string service, string path)
    {
        using var direct = new HttpClient { BaseAddress = system[service].BaseAddress };

        var response = await direct.GetAsync(path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
