namespace EventShop.ServiceDefaults;

/// <summary>Process-wide runtime settings every EventShop service starts with, whoever launches it (ADR 0007).</summary>
public static class ServiceRuntime
{
    /// <summary>.NET reads it once, when the process's socket engine starts, and only "1" turns it on.</summary>
    public const string InlineSocketCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Socket completions run on the socket engine's own threads (one per core) instead of being handed to a thread-pool
    /// thread that must be woken first: every database round trip, broker frame and HTTP read saves that hand-off, and
    /// with five services on 2 cores the hand-offs are a large share of each message's cost (ADR 0007, measured in
    /// docs/benchmark.md). Call it first in Main, before anything opens a socket; a value set by the launcher wins ("0" turns it off).
    /// </summary>
    public static void Configure()
    {
        if (Environment.GetEnvironmentVariable(InlineSocketCompletionsVariable) is null)
            Environment.SetEnvironmentVariable(InlineSocketCompletionsVariable, "1");
    }
}
