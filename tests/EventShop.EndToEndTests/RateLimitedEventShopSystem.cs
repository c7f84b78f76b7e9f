using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// EventShop configured as in production where tests can tell: gateway rate limits (low enough to hit in a test; the shared
/// fixture keeps the generous defaults), and fault injection off.
/// </summary>
public sealed class RateLimitedEventShopSystem : EventShopSystem
{
    protected override bool FaultsEnabled => false;

    public const int OrderSubmissionBurst = 3;
    public const int GeneralBurst = 30;
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    protected override IEnumerable<KeyValuePair<string, string>> ExtraEnvironment(string service) =>
        service != "gateway"
            ? []
            : new Dictionary<string, string>
            {
                ["RateLimiting__General__TokenLimit"] = GeneralBurst.ToString(),
                ["RateLimiting__General__TokensPerPeriod"] = GeneralBurst.ToString(),
                ["RateLimiting__General__ReplenishmentPeriod"] = Period.ToString("c"),
                ["RateLimiting__OrderSubmission__TokenLimit"] = OrderSubmissionBurst.ToString(),
                ["RateLimiting__OrderSubmission__TokensPerPeriod"] = OrderSubmissionBurst.ToString(),
                ["RateLimiting__OrderSubmission__ReplenishmentPeriod"] = Period.ToString("c"),
            };
}

[CollectionDefinition(Name)]
public sealed class ProductionLikeSystemCollection : ICollectionFixture<RateLimitedEventShopSystem>
{
    public const string Name = "Production-like EventShop system";
}
