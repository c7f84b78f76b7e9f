using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace EventShop.Testing;

/// <summary>
/// Steady order traffic for the fault battery: a few customers buy from one merchant while something breaks, then every
/// accepted order must end terminal with money and points exact, and the whole system settled (<see cref="Settlement"/>).
/// </summary>
public sealed class OrderBatch(EventShopSystem system, int customerCount, decimal customerBalance, string prefix)
{
    static readonly string[] Ended = ["Completed", "Cancelled"];

    readonly ShopClient _shop = new(system);
    readonly string[] _customers = Enumerable.Range(0, customerCount).Select(_ => ShopClient.NewId(prefix)).ToArray();
    readonly string _merchant = ShopClient.NewId("shop");
    readonly List<Guid> _orderIds = [];

    public int Accepted => _orderIds.Count;

    public IReadOnlyList<Guid> OrderIds => _orderIds;

    /// <summary>Every accepted order as it ended, once <see cref="AssertSettledAsync"/> has returned.</summary>
    public IReadOnlyList<OrderView> Outcomes { get; private set; } = [];

    /// <summary>When the disruption had finished (everything restarted): recovery times are measured from here.</summary>
    public DateTime DisruptionEndedAt { get; private set; }

    /// <summary>
    /// When the last order of the batch ended, as the Orders service recorded it (its <c>updatedAt</c>): how soon the system
    /// settled, without the client's long-poll wake-up in it (set by <see cref="AssertSettledAsync"/>).
    /// </summary>
    public DateTimeOffset LastOrderEndedAt { get; private set; }

    public async Task OpenAccountsAsync()
    {
        foreach (var customer in _customers)
            await _shop.CreateAccountAsync(customer, "customer", customerBalance);
        await _shop.CreateAccountAsync(_merchant, "merchant", 0m);
    }

    /// <summary>
    /// Submits orders one after another until at least <paramref name="minimumOrders"/> are accepted and the disruption is
    /// over, but never more than twice that: a long disruption must not turn into a load test that slows the suite.
    /// </summary>
    public async Task SubmitWhileAsync(int minimumOrders, decimal unitPrice, Func<Task> disruption)
    {
        var disrupting = Task.Run(disruption);
        for (var i = 0; (i < minimumOrders || !disrupting.IsCompleted) && i < 2 * minimumOrders; i++)
        {
            _orderIds.Add(await SubmitUntilAcceptedAsync(_customers[i % _customers.Length], unitPrice));
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        await disrupting;
        DisruptionEndedAt = DateTime.UtcNow;
    }

    /// <summary>
    /// A client that gets no 202 (gateway or Orders down, database away) retries with the same Idempotency-Key, so an order
    /// accepted but not acknowledged is not placed twice: only orders the system accepted are counted.
    /// </summary>
    async Task<Guid> SubmitUntilAcceptedAsync(string customer, decimal unitPrice)
    {
        var idempotencyKey = Guid.NewGuid().ToString();
        var body = new { customerId = customer, merchantId = _merchant, items = new[] { new { sku = "SKU-1", quantity = 1, unitPrice } } };
        var giveUp = DateTime.UtcNow.AddSeconds(90);
        string lastFailure = "";
        while (DateTime.UtcNow < giveUp)
        {
            try
            {
                using var client = system.Customer(customer);
                client.Timeout = TimeSpan.FromSeconds(15);
                using var response = await ShopClient.SubmitOrderRawAsync(client, idempotencyKey, body);
                if (response.StatusCode == HttpStatusCode.Accepted)
                    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid();
                lastFailure = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                lastFailure = e.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        throw new TimeoutException($"an order was never accepted (last: {lastFailure})");
    }

    /// <summary>
    /// Asserts the battery's end state (this batch's books, then <see cref="Settlement.AssertSettledAsync"/>) and returns how
    /// long after the disruption ended every order of the batch was terminal.
    /// </summary>
    public async Task<TimeSpan> AssertSettledAsync(TimeSpan timeout, params (string Queue, long? Messages)[] parked)
    {
        var orders = await Task.WhenAll(_orderIds.Select(id => _shop.WaitForOutcomeAsync(id, timeout)));
        var settledAfter = DateTime.UtcNow - DisruptionEndedAt;
        Outcomes = orders;
        LastOrderEndedAt = orders.Max(o => o.UpdatedAt);

        Assert.All(orders, o => Assert.Contains(o.Status, Ended));
        Assert.Equal(_orderIds.Count, orders.Select(o => o.OrderId).Distinct().Count());
        var completed = orders.Where(o => o.Status == "Completed").ToList();
        var merchantBalance = (await _shop.AccountAsync(_merchant)).Balance;
        Assert.Equal(completed.Sum(o => o.Total), merchantBalance);
        foreach (var customer in _customers)
        {
            var mine = completed.Where(o => o.CustomerId == customer).ToList();
            Assert.Equal(customerBalance - mine.Sum(o => o.Total), (await _shop.AccountAsync(customer)).Balance);
            Assert.Equal(mine.Sum(o => (long)decimal.Floor(o.Total)), (await _shop.PointsAsync(customer)).Balance);
        }

        await system.AssertSettledAsync(parked);
        return settledAfter;
    }
}
