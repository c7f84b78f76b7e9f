using Yarp.ReverseProxy.Forwarder;

namespace EventShop.Gateway.Proxy;

/// <summary>
/// YARP's own client (with its trace-context propagator, so traceparent reaches the services) plus <see cref="SafeMethodRetryHandler"/>.
/// YARP itself never retries.
/// </summary>
public sealed class RetryingForwarderHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger) : ForwarderHttpClientFactory(logger)
{
    readonly ILogger _logger = logger;

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new SafeMethodRetryHandler(_logger) { InnerHandler = base.WrapHandler(context, handler) };
}
