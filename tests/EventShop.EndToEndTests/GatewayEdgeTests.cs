using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// What the gateway refuses before anything is routed (ADR 0020, docs/security.md "Edge"): a Host it does not serve, a body
/// larger than any service reads, an eleventh open stream of one caller; and the headers every answer carries.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class GatewayEdgeTests(EventShopSystem system)
{
    const int StreamsPerCaller = 10;

    readonly ShopClient _shop = new(system);

    [Fact]
    public async Task A_request_with_a_foreign_Host_header_Should_be_refused()
    {
        using var client = system.Operator();
        // A web page that rebinds its own name to 127.0.0.1 reaches the gateway with its own name as the Host.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/sagas?limit=1") { Headers = { Host = "rebound.example" } };

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var ours = await client.GetAsync("/api/sagas?limit=1");
        Assert.Equal(HttpStatusCode.OK, ours.StatusCode);
    }

    [Fact]
    public async Task A_body_larger_than_a_service_reads_Should_be_refused_at_the_gateway_naming_the_body()
    {
        using var client = system.Operator();
        var accountId = "big-" + Guid.NewGuid().ToString("N")[..8];
        var padding = new string('x', 70 * 1024);
        using var body = new StringContent($$"""{"accountId":"{{accountId}}","kind":"Customer","balance":1,"note":"{{padding}}"}""",
            Encoding.UTF8, "application/json");

        using var response = await client.PostAsync("/api/accounts", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("65536", problem.GetProperty("errors").GetProperty("body")[0].GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/accounts/{accountId}")).StatusCode);
    }

    [Fact]
    public async Task Every_answer_Should_carry_nosniff_and_a_content_security_policy()
    {
        using var client = system.Operator();

        using var proxied = await client.GetAsync($"/api/orders/{Guid.NewGuid()}");
        using var own = await client.GetAsync("/api/faults");
        using var page = await client.GetAsync("/dashboard/");

        foreach (var response in new[] { proxied, own, page })
        {
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        }
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", proxied.Headers.GetValues("Content-Security-Policy").Single());
        // The dashboard's page policy is its own (it runs scripts of its own origin), kept rather than replaced.
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task The_eleventh_open_stream_of_one_caller_Should_be_refused_and_a_closed_one_free_a_place()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(customerPrefix: "streams");
        var faults = new FaultLab(system);
        // The debit of this customer's order waits 6 s (the step's budget is 8 s here): its event streams stay open.
        var hold = await faults.AddAsync(new { service = "accounts", messageType = "DebitCustomer", action = "delay", delayMs = 6_000, customerId = customer });
        var streams = new List<HttpResponseMessage>();
        using var client = system.Customer(customer);
        try
        {
            var orderId = await _shop.SubmitOrderAsync(customer, merchant, 5m);
            for (var i = 0; i < StreamsPerCaller; i++)
            {
                var stream = await OpenEventsAsync(client, orderId);
                streams.Add(stream);
                Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            }

            using var eleventh = await OpenEventsAsync(client, orderId);
            using var longPoll = await client.GetAsync($"/api/orders/{orderId}?waitForCompletion=30");

            Assert.Equal(HttpStatusCode.TooManyRequests, eleventh.StatusCode);
            Assert.Equal("application/problem+json", eleventh.Content.Headers.ContentType?.MediaType);
            Assert.Equal(HttpStatusCode.TooManyRequests, longPoll.StatusCode);
            // Another caller is not counted against this one, and a plain read is not a stream.
            using var operatorClient = system.Operator();
            using var other = await OpenEventsAsync(operatorClient, orderId);
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/orders/{orderId}")).StatusCode);

            streams[0].Dispose();
            streams.RemoveAt(0);
            var again = await RetryAsync(() => OpenEventsAsync(client, orderId));
            streams.Add(again);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }
        finally
        {
            foreach (var stream in streams)
                stream.Dispose();
            await faults.DeleteAsync(hold.Id);
        }
    }

    static async Task<HttpResponseMessage> OpenEventsAsync(HttpClient client, Guid orderId)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/orders/{orderId}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>A closed stream frees its place once the gateway has seen the close: a moment after the client's.</summary>
    static async Task<HttpResponseMessage> RetryAsync(Func<Task<HttpResponseMessage>> open)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await open();
            if (response.StatusCode != HttpStatusCode.TooManyRequests || attempt == 20)
                return response;
            response.Dispose();
            await Task.Delay(100);
        }
    }
}
