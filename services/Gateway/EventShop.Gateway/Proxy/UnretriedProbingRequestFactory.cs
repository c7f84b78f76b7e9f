using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace EventShop.Gateway.Proxy;

/// <summary>
/// Active health probes go through the same client as forwarded requests; YARP's own probe request, marked so
/// <see cref="SafeMethodRetryHandler"/> leaves it alone and a failing destination is seen failing.
/// </summary>
public sealed class UnretriedProbingRequestFactory(IProbingRequestFactory inner) : IProbingRequestFactory
{
    public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination)
    {
        var request = inner.CreateRequest(cluster, destination);
        request.Options.Set(SafeMethodRetryHandler.DoNotRetry, true);
        return request;
    }

    /// <summary>Wraps the factory YARP registered (call after AddReverseProxy).</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.Last(d => d.ServiceType == typeof(IProbingRequestFactory));
        services.Remove(registered);
        services.AddSingleton<IProbingRequestFactory>(provider => new UnretriedProbingRequestFactory(
            registered.ImplementationInstance as IProbingRequestFactory
            ?? registered.ImplementationFactory?.Invoke(provider) as IProbingRequestFactory
            ?? (IProbingRequestFactory)ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!)));
    }
}
