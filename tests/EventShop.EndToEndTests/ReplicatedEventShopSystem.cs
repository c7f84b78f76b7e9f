using System.Net.Http.Json;
using System.Text.Json;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// EventShop with two processes of each of Orders, Accounts, Points and the saga host (competing consumers, one database each),
/// the gateway balancing between them. The second saga host runs under libfaketime, its offset read from a file the clock
/// skew test writes (0 otherwise), so one host's clock can be moved without touching the others.
/// </summary>
public sealed class ReplicatedEventShopSystem : EventShopSystem
{
    /// <summary>The saga host whose clock the skew test moves.</summary>
    public static readonly string SkewedSagaHost = ProcessName("sagas", 2);

    readonly string _skewFile = Path.Combine(Path.GetTempPath(), $"eventshop-skew-{Guid.NewGuid():N}");

    protected override int Replicas => 2;

    /// <summary>Longer than the suite's 8 s: the race test stages a step's reply and its timeout by hand before the real one fires.</summary>
    protected override TimeSpan StepTimeout => TimeSpan.FromSeconds(20);

    public override async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_skewFile, "+0s\n");
        await base.InitializeAsync();
    }

    protected override IEnumerable<KeyValuePair<string, string>> ReplicaEnvironment(string service, int replica)
    {
        if (ProcessName(service, replica) != SkewedSagaHost || !FakeTime.Installed)
            yield break;
        yield return new("LD_PRELOAD", FakeTime.Library);
        yield return new("FAKETIME_TIMESTAMP_FILE", _skewFile);
        // Timers, Stopwatch and the runtime's waits run on the monotonic clock: only the wall clock is skewed, as with a bad NTP.
        yield return new("DONT_FAKE_MONOTONIC", "1");
    }

    /// <summary>Restarts the skewed saga host with its wall clock <paramref name="offset"/> away from the real one.</summary>
    public async Task SkewSagaHostAsync(TimeSpan offset)
    {
        await File.WriteAllTextAsync(_skewFile, FakeTime.Offset(offset) + "\n");
        await RestartAsync(SkewedSagaHost);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        File.Delete(_skewFile);
    }
}

/// <summary>The tests that run on two replicas of every service share one such system, one test at a time.</summary>
[CollectionDefinition(Name)]
public sealed class ReplicatedSystemCollection : ICollectionFixture<ReplicatedEventShopSystem>
{
    public const string Name = "EventShop with two replicas of each service";
}
