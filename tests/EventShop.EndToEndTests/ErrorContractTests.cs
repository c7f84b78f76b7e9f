using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// Every way a request can be wrong, on every route, through the gateway: the answer is always an RFC 9457 problem document
/// with a stable type and the trace id, naming the field where there is one, and never carrying a stack trace.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ErrorContractTests(EventShopSystem system)
{
    const string UnknownOrder = "5b0f6a52-6f1e-4a43-9a4c-3f1f1f0c2a11";
    const string Order = """{"customerId":"alice","merchantId":"shop","items":[{"sku":"A-1","quantity":1,"unitPrice":1.00}]}""";
    const string Fault = """{"service":"accounts","messageType":"DebitCustomer","action":"fail","times":1}""";

    [Theory]
    // No token: 401 on every API route, the gateway's own included.
    [InlineData("GET", "/api/orders/" + UnknownOrder, "none", null, null, 401, null)]
    [InlineData("GET", "/api/orders/" + UnknownOrder + "/events", "none", null, null, 401, null)]
    [InlineData("GET", "/api/orders", "none", null, null, 401, null)]
    [InlineData("POST", "/api/orders", "none", "application/json", Order, 401, null)]
    [InlineData("POST", "/api/accounts", "none", "application/json", """{"accountId":"a","kind":"customer","balance":1}""", 401, null)]
    [InlineData("GET", "/api/accounts/alice", "none", null, null, 401, null)]
    [InlineData("GET", "/api/accounts/alice/ledger", "none", null, null, 401, null)]
    [InlineData("POST", "/api/accounts/alice/freeze", "none", null, null, 401, null)]
    [InlineData("GET", "/api/points/alice", "none", null, null, 401, null)]
    [InlineData("POST", "/api/points/alice/suspend", "none", null, null, 401, null)]
    [InlineData("GET", "/api/sagas", "none", null, null, 401, null)]
    [InlineData("GET", "/api/sagas/" + UnknownOrder, "none", null, null, 401, null)]
    [InlineData("GET", "/api/customers/alice/summary", "none", null, null, 401, null)]
    [InlineData("GET", "/api/invariants", "none", null, null, 401, null)]
    [InlineData("GET", "/api/faults", "none", null, null, 401, null)]
    [InlineData("POST", "/api/faults", "none", "application/json", Fault, 401, null)]
    [InlineData("GET", "/api/failures", "none", null, null, 401, null)]
    [InlineData("GET", "/api/audit", "none", null, null, 401, null)]
    [InlineData("GET", "/api/sagas/graph", "none", null, null, 401, null)]
    [InlineData("GET", "/dashboard/api/live", "none", null, null, 401, null)]
    [InlineData("GET", "/api/sagas/" + UnknownOrder + "/messages", "none", null, null, 401, null)]
    [InlineData("POST", "/api/sagas/" + UnknownOrder + "/cancel", "none", null, null, 401, null)]
    [InlineData("POST", "/api/sagas/" + UnknownOrder + "/retry-step", "none", null, null, 401, null)]
    // A customer on an operator route, or on someone else's data: 403, from the gateway's route policy or from the service.
    [InlineData("GET", "/api/sagas", "customer", null, null, 403, null)]
    [InlineData("GET", "/api/sagas/" + UnknownOrder, "customer", null, null, 403, null)]
    [InlineData("POST", "/api/accounts", "customer", "application/json", """{"accountId":"a","kind":"customer","balance":1}""", 403, null)]
    [InlineData("POST", "/api/accounts/alice/freeze", "customer", null, null, 403, null)]
    [InlineData("POST", "/api/points/alice/suspend", "customer", null, null, 403, null)]
    [InlineData("GET", "/api/orders", "customer", null, null, 403, null)]
    [InlineData("GET", "/api/accounts/someone-else", "customer", null, null, 403, null)]
    [InlineData("GET", "/api/customers/someone-else/summary", "customer", null, null, 403, null)]
    [InlineData("GET", "/api/invariants", "customer", null, null, 403, null)]
    [InlineData("GET", "/api/faults", "customer", null, null, 403, null)]
    [InlineData("POST", "/api/faults", "customer", "application/json", Fault, 403, null)]
    [InlineData("GET", "/api/failures", "customer", null, null, 403, null)]
    [InlineData("POST", "/api/failures/retry", "customer", "application/json", """{"group":"g"}""", 403, null)]
    [InlineData("GET", "/api/audit", "customer", null, null, 403, null)]
    [InlineData("GET", "/api/sagas/graph", "customer", null, null, 403, null)]
    [InlineData("GET", "/dashboard/api/live", "customer", null, null, 403, null)]
    [InlineData("GET", "/dashboard/api/live?orderId=not-a-uuid", "operator", null, null, 400, "orderId")]
    [InlineData("GET", "/api/sagas/" + UnknownOrder + "/messages", "customer", null, null, 403, null)]
    [InlineData("POST", "/api/sagas/" + UnknownOrder + "/cancel", "customer", null, null, 403, null)]
    [InlineData("POST", "/api/sagas/" + UnknownOrder + "/retry-step", "customer", null, null, 403, null)]
    // Unknown resources: 404, whether the gateway has no route or the service has no such thing.
    [InlineData("GET", "/api/nothing-here", "operator", null, null, 404, null)]
    [InlineData("GET", "/not-api", "operator", null, null, 404, null)]
    [InlineData("GET", "/api/orders/" + UnknownOrder, "operator", null, null, 404, null)]
    [InlineData("GET", "/api/orders/" + UnknownOrder + "/events", "operator", null, null, 404, null)]
    [InlineData("GET", "/api/orders/not-a-uuid", "operator", null, null, 404, null)]
    [InlineData("GET", "/api/accounts/nobody-at-all", "operator", null, null, 404, null)]
    [InlineData("GET", "/api/accounts/nobody-at-all/ledger", "operator", null, null, 404, null)]
    [InlineData("POST", "/api/accounts/nobody-at-all/freeze", "operator", null, null, 404, null)]
    [InlineData("GET", "/api/sagas/" + UnknownOrder, "operator", null, null, 404, null)]
    [InlineData("GET", "/api/customers/nobody-at-all/summary", "operator", null, null, 404, null)]
    [InlineData("GET", "/api/faults/" + UnknownOrder, "operator", null, null, 404, null)]
    [InlineData("DELETE", "/api/faults/" + UnknownOrder, "operator", null, null, 404, null)]
    [InlineData("GET", "/api/failures/no-such-failure", "operator", null, null, 404, null)]
    [InlineData("POST", "/api/failures/no-such-failure/retry", "operator", null, null, 404, null)]
    [InlineData("GET", "/api/sagas/" + UnknownOrder + "/messages", "operator", null, null, 404, null)]
    [InlineData("POST", "/api/sagas/" + UnknownOrder + "/cancel", "operator", null, null, 404, null)]
    [InlineData("POST", "/api/sagas/" + UnknownOrder + "/retry-step", "operator", null, null, 404, null)]
    // A method the route does not have: 405.
    [InlineData("DELETE", "/api/accounts/alice", "operator", null, null, 405, null)]
    [InlineData("PUT", "/api/orders/" + UnknownOrder, "operator", "application/json", "{}", 405, null)]
    [InlineData("DELETE", "/api/sagas", "operator", null, null, 405, null)]
    // Malformed bodies: 400, naming the field where there is one.
    [InlineData("POST", "/api/accounts", "operator", "application/json", """{"accountId":""", 400, null)]
    [InlineData("POST", "/api/accounts", "operator", "application/json", """{"accountId":"big","kind":"customer","balance":1e30}""", 400, "balance")]
    [InlineData("POST", "/api/accounts", "operator", "application/json", """{"accountId":"str","kind":"customer","balance":"100"}""", 400, "balance")]
    [InlineData("POST", "/api/accounts", "operator", "application/json", """{"accountId":"x","kind":"customer","balance":1,"colour":"red"}""", 400, "colour")]
    [InlineData("POST", "/api/orders", "operator", "application/json", """{"customerId":""", 400, null)]
    [InlineData("POST", "/api/orders", "operator", "application/json", """{"customerId":"alice","merchantId":"shop","items":[{"sku":"A-1","quantity":"1","unitPrice":1.00}]}""", 400, "items[0].quantity")]
    [InlineData("POST", "/dev/token", "none", "application/json", """{"subject":""", 400, null)]
    [InlineData("POST", "/api/accounts", "operator", null, null, 400, "body")]
    [InlineData("POST", "/api/faults", "operator", "application/json", """{"service":"accounts","messageType":"DebitCustomer","action":"explode"}""", 400, "action")]
    [InlineData("POST", "/api/faults", "operator", "application/json", """{"service":"nowhere","messageType":"DebitCustomer","action":"fail"}""", 400, "service")]
    [InlineData("POST", "/api/faults", "operator", "application/json", """{"service":"accounts","messageType":"DebitCustomer","action":"fail","times":"2"}""", 400, "times")]
    [InlineData("POST", "/api/failures/no-such-failure/discard", "operator", "application/json", """{"reason":""}""", 400, "reason")]
    [InlineData("POST", "/api/failures/retry", "operator", "application/json", """{"group":""}""", 400, "group")]
    // Bodies that are not JSON: 415.
    [InlineData("POST", "/api/orders", "operator", "text/plain", Order, 415, null)]
    [InlineData("POST", "/api/orders", "operator", "", Order, 415, null)]
    [InlineData("POST", "/api/accounts", "operator", "text/plain", """{"accountId":"t","kind":"customer","balance":1}""", 415, null)]
    [InlineData("POST", "/api/accounts", "operator", "", """{"accountId":"t","kind":"customer","balance":1}""", 415, null)]
    [InlineData("POST", "/dev/token", "none", "text/plain", """{"subject":"a","roles":["customer"]}""", 415, null)]
    [InlineData("POST", "/api/faults", "operator", "text/plain", Fault, 415, null)]
    [InlineData("POST", "/api/failures/retry", "operator", "text/plain", """{"group":"g"}""", 415, null)]
    // Query parameters out of range, of the wrong type or naming nothing known: 400 naming the parameter.
    [InlineData("GET", "/api/sagas?limit=abc", "operator", null, null, 400, "limit")]
    [InlineData("GET", "/api/sagas?limit=0", "operator", null, null, 400, "limit")]
    [InlineData("GET", "/api/sagas?state=bogus", "operator", null, null, 400, "state")]
    [InlineData("GET", "/api/sagas?stuck=maybe", "operator", null, null, 400, "stuck")]
    [InlineData("GET", "/api/sagas?stuckAfterSeconds=-1", "operator", null, null, 400, "stuckAfterSeconds")]
    [InlineData("GET", "/api/sagas?offset=-1", "operator", null, null, 400, "offset")]
    [InlineData("GET", "/api/sagas?offset=abc", "operator", null, null, 400, "offset")]
    [InlineData("GET", "/api/sagas?orderId=not-an-id", "operator", null, null, 400, "orderId")]
    [InlineData("GET", "/api/sagas?customerId=bad%20id!", "operator", null, null, 400, "customerId")]
    [InlineData("GET", "/api/sagas?merchantId=bad%20id!", "operator", null, null, 400, "merchantId")]
    [InlineData("GET", "/api/sagas?failureCode=bad%20code!", "operator", null, null, 400, "failureCode")]
    [InlineData("GET", "/api/sagas?from=soon", "operator", null, null, 400, "from")]
    [InlineData("GET", "/api/sagas?from=2026-12-02T10:00:00Z&to=2026-12-02T09:00:00Z", "operator", null, null, 400, "to")]
    [InlineData("GET", "/api/orders/" + UnknownOrder + "?waitForCompletion=99999", "operator", null, null, 400, "waitForCompletion")]
    [InlineData("GET", "/api/orders/" + UnknownOrder + "?waitForCompletion=-5", "operator", null, null, 400, "waitForCompletion")]
    [InlineData("GET", "/api/orders/" + UnknownOrder + "?waitForCompletion=soon", "operator", null, null, 400, "waitForCompletion")]
    [InlineData("GET", "/api/orders?limit=abc", "operator", null, null, 400, "limit")]
    [InlineData("GET", "/api/orders?limit=100000", "operator", null, null, 400, "limit")]
    [InlineData("GET", "/api/orders?customerId=bad%20id!", "operator", null, null, 400, "customerId")]
    [InlineData("GET", "/api/failures?limit=0", "operator", null, null, 400, "limit")]
    [InlineData("GET", "/api/failures?limit=abc", "operator", null, null, 400, "limit")]
    [InlineData("GET", "/api/audit?limit=5000", "operator", null, null, 400, "limit")]
    [InlineData("GET", "/api/audit?orderId=not-a-uuid", "operator", null, null, 400, "orderId")]
    public async Task When_a_request_is_wrong_Should_answer_a_problem_without_a_stack_trace(
        string method, string path, string caller, string? contentType, string? body, int status, string? field)
    {
        using var client = caller switch
        {
            "operator" => system.Operator(),
            "customer" => system.Customer("alice"),
            _ => system.Client(),
        };
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        if (contentType is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body ?? ""));
            if (contentType != "")
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        else if (method == "POST" && path == "/api/accounts")
        {
            request.Content = new ByteArrayContent([]); // a POST with no body and no content type at all
        }

        var response = await client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, status, field);
    }

    [Fact]
    public async Task When_a_client_sends_what_used_to_reach_the_exception_page_Should_log_no_unhandled_exception()
    {
        using var client = system.Operator();

        var answers = new[]
        {
            await client.PostAsync("/api/accounts", new StringContent("""{"accountId":"huge","kind":"customer","balance":1e30}""", Encoding.UTF8, "application/json")),
            await client.PostAsync("/api/accounts", new StringContent("""{"accountId":""", Encoding.UTF8, "application/json")),
            await client.GetAsync("/api/sagas?limit=abc"),
        };

        foreach (var answer in answers)
            await ProblemAssert.IsProblemAsync(answer, 400, field: null);
        // A client's mistake is not the server's error: no "An unhandled exception has occurred" in any service's log.
        Assert.DoesNotContain("unhandled exception", system.Diagnostics(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task When_the_request_target_is_too_long_Should_answer_414_problem()
    {
        using var client = system.Operator();

        var response = await client.GetAsync("/api/accounts/" + new string('a', 9_000));

        await ProblemAssert.IsProblemAsync(response, 414, field: null);
    }

    [Fact]
    public async Task When_a_service_answers_a_problem_Should_the_gateway_pass_its_body_on()
    {
        using var client = system.Operator();

        var response = await client.GetAsync("/api/sagas?state=bogus");

        var problem = await ProblemAssert.IsProblemAsync(response, 400, "state");
        // The message names the states the saga host knows: only the service can say that, so this body is the service's own.
        Assert.Contains("Cancelled", problem.GetProperty("errors").GetProperty("state")[0].GetString());
    }
}
