using System.Net.Http.Headers;
using System.Net.Http.Json;
using EventShop.Sagas.Replay;

// infra/eventshop replay <orderId> [--gateway URL] | --file recording.json
// Exit 0: the current state machine does what was recorded; 1: it diverges (shown side by side); 2: the replay could not run.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: replay <orderId> [--gateway http://localhost:8080]   (token: EVENTSHOP_TOKEN, else the gateway's /dev/token)");
    Console.Error.WriteLine("       replay --file <recording.json>                     (the JSON of GET /api/sagas/{orderId}/messages)");
    return 2;
}

try
{
    var recording = args[0] == "--file" && args.Length > 1
        ? SagaRecording.Parse(await File.ReadAllTextAsync(args[1]))
        : await FetchAsync(args);
    if (recording is null)
        return 2;

    using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
    var result = await SagaReplayer.ReplayAsync(recording, timeout.Token);
    Console.Write(ReplayReport.Format(result));
    return result.Matches ? 0 : 1;
}
catch (Exception exception) when (exception is HttpRequestException or IOException or InvalidDataException or System.Text.Json.JsonException
    or OperationCanceledException)
{
    Console.Error.WriteLine($"replay: {exception.Message}");
    return 2;
}

static async Task<SagaRecording?> FetchAsync(string[] args)
{
    if (!Guid.TryParse(args[0], out var orderId))
    {
        Console.Error.WriteLine($"replay: '{args[0]}' is not an order id");
        return null;
    }
    var gatewayAt = Array.IndexOf(args, "--gateway");
    var gateway = gatewayAt >= 0 && gatewayAt + 1 < args.Length ? args[gatewayAt + 1]
        : Environment.GetEnvironmentVariable("EVENTSHOP_GATEWAY") ?? "http://localhost:8080";
    using var http = new HttpClient { BaseAddress = new Uri(gateway), Timeout = TimeSpan.FromSeconds(30) };

    var token = Environment.GetEnvironmentVariable("EVENTSHOP_TOKEN");
    if (string.IsNullOrEmpty(token))
    {
        // The gateway issues development tokens only in a development run; elsewhere set EVENTSHOP_TOKEN to an operator's.
        using var issued = await http.PostAsJsonAsync("/dev/token", TokenRequest.Operator);
        if (!issued.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"replay: the gateway issued no token ({(int)issued.StatusCode}); set EVENTSHOP_TOKEN to an operator token");
            return null;
        }
        token = (await issued.Content.ReadFromJsonAsync<TokenResponse>())?.AccessToken;
    }
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

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
