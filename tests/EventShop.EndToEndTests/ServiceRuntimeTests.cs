using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>Every service runs with the runtime settings of ADR 0007, however it is launched (here: a plain `dotnet x.dll`).</summary>
[Collection(SystemCollection.Name)]
public sealed class ServiceRuntimeTests(EventShopSystem system)
{
    [Fact]
    public void Every_service_runs_socket_completions_inline_on_one_engine_thread_per_core()
    {
        // .NET starts one ".NET Sockets" engine thread per core only with inline completions; otherwise one per 30 cores.
        // (On a 1-core machine both give one thread and this test cannot tell them apart; CI has 2 cores.)
        foreach (var (name, _, _) in EventShopSystem.Services)
        {
            var pid = system[name].ProcessId ?? throw new InvalidOperationException($"{name} is not running");
            var engineThreads = Directory.GetDirectories($"/proc/{pid}/task").Count(task => ThreadName(task) == ".NET Sockets");
            Assert.True(engineThreads == Environment.ProcessorCount,
                $"{name} has {engineThreads} socket engine threads, expected {Environment.ProcessorCount} (one per core)");
        }
    }

    /// <summary>A thread-pool thread may retire between listing the threads and reading its name: it is simply not counted.</summary>
    static string? ThreadName(string taskDirectory)
    {
        try
        {
            return File.ReadAllText(Path.Combine(taskDirectory, "comm")).Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }
}
