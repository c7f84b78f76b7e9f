using Microsoft.EntityFrameworkCore;
using Npgsql;
using Polly;
using Polly.Retry;

namespace EventShop.Messaging.Hosting;

/// <summary>Retries a whole HTTP unit of work (transaction included) when PostgreSQL reports a transient failure.</summary>
public static class TransientDatabaseRetry
{
    public static readonly ResiliencePipeline Pipeline = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 4,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(50),
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(e => e.IsTransient)
                .Handle<DbUpdateException>(e => e.InnerException is NpgsqlException { IsTransient: true } or PostgresException { SqlState: "40001" or "40P01" }),
        })
        .Build();
}
