using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventShop.Sagas.Replay;

// infra/eventshop replay <orderId> [--gateway URL] | --all [--gateway URL] | --file recording.json
// Exit 0: the current state machine does what was recorded; 1: it diverges (shown side by side); 2: the replay could not run.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: replay <orderId> [--gateway http://localhost:8080]   (token: EVENTSHOP_TOKEN, else the gateway's /dev/token)");
    Console.Error.WriteLine("       replay --all [--gateway http://localhost:8080]       (every saga the saga host has, state by state)");
    Console.Error.WriteLine("       replay --file <recording.json>                     (the JSON of GET /api/sagas/{orderId}/messages)");
    return 2;
}

try
{
    if (args[0] == "--all")
        return await ReplayAllAsync(args);

    SagaRecording? recording;
    if (args[0] == "--file" && args.Length > 1)
    {
        recording = SagaRecording.Parse(await File.ReadAllTextAsync(args[1]));
    }
    else if (!Guid.TryParse(args[0], out var orderId))
    {
        Console.Error.WriteLine($"replay: '{args[0]}' is not an order id");
        return 2;
    }
    else
    {
        using var http = await GatewayClientAsync(args);
        recording = http is null ? null : await FetchAsync(http, orderId);
    }
    if (recording is null)
        return 2;

    using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
    var result = await SagaReplayer.ReplayAsync(recording, timeout.Token);
    Console.Write(ReplayReport.Format(result));
    return result.Matches ? 0 : 1;
}
catch (Exception exception) when (exception is HttpRequestException or IOException or InvalidDataException or JsonException
    or OperationCanceledException)
{
    Console.Error.WriteLine($"replay: {exception.Message}");
    return 2;
}

// Every saga the saga host lists, state by state: what a developer runs after a benchmark, before merging a change to the
// state machine. Divergences are shown in full; matches only counted.
static async Task<int> ReplayAllAsync(string[] args)
{
    using var http = await GatewayClientAsync(args);
    if (http is null)
        return 2;

    var counts = (await http.GetFromJsonAsync<JsonElement>("/api/sagas?limit=1")).GetProperty("counts");
    // A fresh harness every SessionSize sagas: the harness keeps every message it saw, and looking a reply up among them
    // grows with their number (3,700 sagas on one harness took longer than 8 minutes, 1,000 about 50 s).
    const int SessionSize = 250;
    var session = await SagaReplayer.Session.StartAsync<EventShop.Sagas.OrderPlacement.OrderStateMachine>();
    int replayed = 0, diverged = 0;
    foreach (var state in counts.EnumerateObject().Where(s => s.Value.GetInt32() > 0).Select(s => s.Name))
    {
        // Page by page (the list's offset and total); a saga that moves while this runs may be met twice or not at all.
        var inState = 0;
        while (true)
        {
            var page = await http.GetFromJsonAsync<JsonElement>($"/api/sagas?state={Uri.EscapeDataString(state)}&limit=1000&offset={inState}");
            var ids = page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("orderId").GetGuid()).ToList();
            foreach (var orderId in ids)
            {
                var recording = await FetchAsync(http, orderId);
                if (recording is null)
                    return 2;
                using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
                if (replayed > 0 && replayed % SessionSize == 0)
                {
                    await session.DisposeAsync();
                    session = await SagaReplayer.Session.StartAsync<EventShop.Sagas.OrderPlacement.OrderStateMachine>();
                }
                var result = await session.ReplayAsync(recording, timeout.Token);
                replayed++;
                if (!result.Matches)
                {
                    diverged++;
                    Console.Write(ReplayReport.Format(result));
                }
            }
            inState += ids.Count;
            // A saga host without paging answers one page and no total.
            if (ids.Count == 0 || !page.TryGetProperty("total", out var total) || inState >= total.GetInt32())
                break;
        }
        Console.Error.WriteLine($"replay: {state}: {inState} sagas replayed");
    }

    await session.DisposeAsync();
    Console.WriteLine($"{replayed} sagas replayed: {replayed - diverged} match, {diverged} diverge");
    return diverged == 0 ? 0 : 1;
}

static async Task<HttpClient?> GatewayClientAsync(string[] args)
{
    var gatewayAt = Array.IndexOf(args, "--gateway");
    var gateway = gatewayAt >= 0 && gatewayAt + 1 < args.Length ? args[gatewayAt + 1]
        : Environment.GetEnvironmentVariable("EVENTSHOP_GATEWAY") ?? "http://localhost:8080";
    var http = new HttpClient { BaseAddress = new Uri(gateway), Timeout = TimeSpan.FromSeconds(30) };

    var token = Environment.GetEnvironmentVariable("EVENTSHOP_TOKEN");
    if (string.IsNullOrEmpty(token))
    {
        // The gateway issues development tokens only in a development run; elsewhere set EVENTSHOP_TOKEN to an operator's.
        using var issued = await http.PostAsJsonAsync("/dev/token", TokenRequest.Operator);
        if (!issued.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"replay: the gateway issued no token ({(int)issued.StatusCode}); set EVENTSHOP_TOKEN to an operator token");
            http.Dispose();
            return null;
        }
        token = (await issued.Content.ReadFromJsonAsync<TokenResponse>())?.AccessToken;
    }
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    return http;
}

static async Task<SagaRecording?> FetchAsync(HttpClient http, Guid orderId)
{
    using var response = await http.GetAsync($"/api/sagas/{orderId}/messages");
    if (!response.IsSuccessStatusCode)
    {
        Console.Error.WriteLine($"replay: GET /api/sagas/{orderId}/messages answered {(int)response.StatusCode}");
        return null;
    }
    return SagaRecording.Parse(await response.Content.ReadAsStringAsync());
}

sealed record TokenResponse(string AccessToken);

sealed record TokenRequest(string Subject, string[] Roles)
{
    public static readonly TokenRequest Operator = new("replay", ["operator"]);
}
