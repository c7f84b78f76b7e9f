using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>
/// EventShop in the production profile (ADR 0020): every process in the Production environment, gateway rate limits (low
/// enough to hit in a test; the shared fixture keeps the generous defaults). Fault injection is asked for, as a careless
/// deployment might, and the profile refuses it. The services migrate as a deployment does: their own 'migrate' command, as
/// the owner role, while the service, holding only its runtime role, waits for it.
/// </summary>
public sealed class RateLimitedEventShopSystem : EventShopSystem
{
    protected override string EnvironmentName => "Production";

    protected override bool FaultsEnabled => true;

    /// <summary>As a deployment runs them: each service holds only its runtime role; its migrate command ran as the owner.</summary>
    protected override bool MigrateSeparately => true;

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
