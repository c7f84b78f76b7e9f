using System.Net;

namespace EventShop.Gateway.Proxy;

/// <summary>
/// Retries a forwarded request when the destination could not be reached or answered 502/503/504, but only for GET and HEAD:
/// they change nothing, so sending them twice is harmless. A POST is never retried here: the first attempt may have been
/// applied, and only the caller (with its Idempotency-Key) may safely send it again.
/// </summary>
public sealed partial class SafeMethodRetryHandler(ILogger logger) : DelegatingHandler
{
    /// <summary>Set on requests that must see the first failure as it is (active health probes: a retry would hide an outage).</summary>
    public static readonly HttpRequestOptionsKey<bool> DoNotRetry = new("EventShop.Gateway.DoNotRetry");

    const int MaxRetries = 2;
    static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(100);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if ((request.Method != HttpMethod.Get && request.Method != HttpMethod.Head) || request.Options.TryGetValue(DoNotRetry, out var noRetry) && noRetry)
            return await base.SendAsync(request, cancellationToken);

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var response = await base.SendAsync(request, cancellationToken);
                if (attempt >= MaxRetries || !IsTransient(response.StatusCode))
                    return response;
                LogRetry(logger, request.Method, request.RequestUri, $"status {(int)response.StatusCode}", attempt + 1);
                response.Dispose();
            }
            catch (HttpRequestException e) when (attempt < MaxRetries && !cancellationToken.IsCancellationRequested)
            {
                LogRetry(logger, request.Method, request.RequestUri, e.Message, attempt + 1);
            }

            await Task.Delay(BaseDelay * (attempt + 1), cancellationToken);
        }
    }

    static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retrying {Method} {Uri} after {Reason} (retry {Retry})")]
    static partial void LogRetry(ILogger logger, HttpMethod method, Uri? uri, string reason, int retry);
}
