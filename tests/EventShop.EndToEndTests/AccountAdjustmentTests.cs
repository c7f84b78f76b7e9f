using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// POST /api/accounts/{id}/adjustments through the gateway: an operator's correction is a ledger entry with its author and
/// reason, audited, and every invariant still holds after it. In the invariant tests' system, whose verdict no other
/// collection's faults can turn red.
/// </summary>
[Collection(InvariantsCollection.Name)]
public sealed class AccountAdjustmentTests(EventShopSystem system)
{
    const string Author = "ops-jane";
    readonly ShopClient _shop = new(system);

    static HttpRequestMessage Adjustment(string accountId, string body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/accounts/{accountId}/adjustments")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey ?? Guid.NewGuid().ToString());
        return request;
    }

    [Fact]
    public async Task When_an_operator_adjusts_up_and_down_Should_move_the_balance_record_author_and_reason_and_keep_every_invariant()
    {
        var (customer, merchant) = await _shop.OpenCustomerAndMerchantAsync(customerBalance: 100m);
        Assert.Equal("Completed", (await _shop.WaitForOutcomeAsync(await _shop.SubmitOrderAsync(customer, merchant, unitPrice: 10m))).Status);
        using var operatorClient = system.Client(Author, "operator");

        var up = await operatorClient.SendAsync(Adjustment(customer, """{"amount":25.50,"reason":"goodwill for a late delivery"}"""));
        var down = await operatorClient.SendAsync(Adjustment(customer, """{"amount":-15.25,"reason":"goodwill paid twice"}"""));

        Assert.Equal(HttpStatusCode.Created, up.StatusCode);
        Assert.Equal($"/api/accounts/{customer}/ledger", up.Headers.Location?.OriginalString);
        var upBody = await up.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((25.50m, Author, "goodwill for a late delivery", 115.50m),
            (upBody.GetProperty("amount").GetDecimal(), upBody.GetProperty("author").GetString(), upBody.GetProperty("reason").GetString(),
                upBody.GetProperty("balance").GetDecimal()));
        Assert.Equal(HttpStatusCode.Created, down.StatusCode);
        Assert.Equal(100.25m, (await down.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("balance").GetDecimal());
        Assert.Equal(100.25m, (await _shop.AccountAsync(customer)).Balance);

        var ledger = await _shop.LedgerAsync(customer);
        Assert.Equal(["Opening", "Debit", "Adjustment", "Adjustment"], ledger.Select(x => x.Type));
        Assert.Equal(ledger.Sum(x => x.Amount), (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(
            [(Guid.Empty, 25.50m, Author, "goodwill for a late delivery"), (Guid.Empty, -15.25m, Author, "goodwill paid twice")],
            ledger.Where(x => x.Type == "Adjustment").Select(x => (x.OrderId, x.Amount, x.Author!, x.Reason!)));
        Assert.All(ledger.Where(x => x.Type != "Adjustment"), x => Assert.True(x.Author is null && x.Reason is null, x.Type));

        var audit = await operatorClient.GetFromJsonAsync<JsonElement>("/api/audit?limit=1000");
        var entries = audit.GetProperty("items").EnumerateArray()
            .Where(x => x.GetProperty("action").GetString() == "account.adjust" && x.GetProperty("target").GetString() == $"account/{customer}")
            .ToList();
        Assert.Equal(2, entries.Count);
        Assert.All(entries, x => Assert.Equal((Author, "accounts"), (x.GetProperty("subject").GetString(), x.GetProperty("service").GetString())));
        Assert.Contains(entries, x => x.GetProperty("detail").GetString()!.Contains("goodwill paid twice", StringComparison.Ordinal));

        var verdict = await Invariants.FreshVerdictAsync(system);
        Assert.True(verdict.Ok, string.Join("; ", verdict.Checks.Where(x => !x.Ok).Select(x => $"{x.Name}: {x.Detail}")));
        Assert.Contains("adjustments ", Assert.Single(verdict.Checks, x => x.Name == "accounts.money-conserved").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_same_Idempotency_Key_is_sent_again_Should_answer_as_before_and_move_nothing()
    {
        var (customer, _) = await _shop.OpenCustomerAndMerchantAsync(customerBalance: 50m);
        using var operatorClient = system.Client(Author, "operator");
        var key = Guid.NewGuid().ToString();
        const string body = """{"amount":-20.00,"reason":"chargeback"}""";

        var first = await operatorClient.SendAsync(Adjustment(customer, body, key));
        var again = await operatorClient.SendAsync(Adjustment(customer, body, key));
        var otherBody = await operatorClient.SendAsync(Adjustment(customer, """{"amount":-21.00,"reason":"chargeback"}""", key));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal((await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("createdAt").GetDateTimeOffset(),
            (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("createdAt").GetDateTimeOffset());
        await ProblemAssert.IsProblemAsync(otherBody, 422, field: null);
        Assert.Equal(30.00m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Single(await _shop.LedgerAsync(customer), x => x.Type == "Adjustment");
    }

    [Theory]
    [InlineData("zero amount", """{"amount":0,"reason":"nothing"}""", "amount")]
    [InlineData("missing amount", """{"reason":"nothing"}""", "amount")]
    [InlineData("three decimals", """{"amount":1.005,"reason":"rounding"}""", "amount")]
    [InlineData("missing reason", """{"amount":5.00}""", "reason")]
    [InlineData("blank reason", """{"amount":5.00,"reason":"   "}""", "reason")]
    [InlineData("reason too long", """{"amount":5.00,"reason":"{long}"}""", "reason")]
    [InlineData("overdraft", """{"amount":-100.01,"reason":"too much"}""", "amount")]
    [InlineData("unknown field", """{"amount":5.00,"reason":"r","author":"someone-else"}""", "author")]
    [InlineData("no Idempotency-Key", """{"amount":5.00,"reason":"r"}""", "Idempotency-Key")]
    public async Task When_the_adjustment_is_invalid_Should_answer_400_naming_the_field_and_store_nothing(string @case, string body, string field)
    {
        var (customer, _) = await _shop.OpenCustomerAndMerchantAsync(customerBalance: 100m);
        using var operatorClient = system.Client(Author, "operator");
        using var request = Adjustment(customer, body.Replace("{long}", new string('r', 501), StringComparison.Ordinal));
        if (field == "Idempotency-Key")
            request.Headers.Remove("Idempotency-Key");

        var response = await operatorClient.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, 400, field);
        Assert.True(100m == (await _shop.AccountAsync(customer)).Balance, @case);
        Assert.Equal(["Opening"], (await _shop.LedgerAsync(customer)).Select(x => x.Type));
    }

    [Fact]
    public async Task When_the_overdraft_is_refused_Should_say_why_in_the_amount_field()
    {
        var (customer, _) = await _shop.OpenCustomerAndMerchantAsync(customerBalance: 10m);
        using var operatorClient = system.Client(Author, "operator");

        var response = await operatorClient.SendAsync(Adjustment(customer, """{"amount":-10.50,"reason":"too much"}"""));

        var problem = await ProblemAssert.IsProblemAsync(response, 400, "amount");
        Assert.Contains("would make the balance -0.50", problem.GetProperty("errors").GetProperty("amount")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_audit_trail_cannot_be_written_Should_answer_503_and_move_nothing()
    {
        var (customer, _) = await _shop.OpenCustomerAndMerchantAsync(customerBalance: 100m);
        using var operatorClient = system.Client(Author, "operator");

        await system.KillAsync("sagas");
        try
        {
            var response = await operatorClient.SendAsync(Adjustment(customer, """{"amount":5.00,"reason":"while the trail is down"}"""));

            await ProblemAssert.IsProblemAsync(response, 503, field: null);
        }
        finally
        {
            await system.RestartAsync("sagas");
        }
        Assert.Equal(100m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(["Opening"], (await _shop.LedgerAsync(customer)).Select(x => x.Type));
    }

    [Fact]
    public async Task When_the_caller_is_not_an_operator_or_the_account_is_unknown_Should_refuse_and_store_nothing()
    {
        var (customer, _) = await _shop.OpenCustomerAndMerchantAsync(customerBalance: 100m);
        const string body = """{"amount":1000.00,"reason":"I deserve it"}""";
        using var self = system.Customer(customer);
        using var anonymous = system.Client();
        using var operatorClient = system.Client(Author, "operator");

        await ProblemAssert.IsProblemAsync(await self.SendAsync(Adjustment(customer, body)), 403, field: null);
        await ProblemAssert.IsProblemAsync(await anonymous.SendAsync(Adjustment(customer, body)), 401, field: null);
        await ProblemAssert.IsProblemAsync(await operatorClient.SendAsync(Adjustment("nobody-at-all", body)), 404, field: null);

        Assert.Equal(100m, (await _shop.AccountAsync(customer)).Balance);
        Assert.Equal(["Opening"], (await _shop.LedgerAsync(customer)).Select(x => x.Type));
    }
}
