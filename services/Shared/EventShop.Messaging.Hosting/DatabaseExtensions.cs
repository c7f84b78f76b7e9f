using EventShop.Messaging;
using EventShop.Messaging.Faults;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Polly;
using Polly.Retry;

namespace EventShop.Messaging.Hosting;

public static class DatabaseExtensions
{
    public const string DatabaseHostKey = "Database:Host";

    /// <summary>
    /// Suffix of the connection string the migrations run on (<c>ConnectionStrings:OrdersMigrations</c>): the database's owner
    /// role, which may run DDL. <c>ConnectionStrings:Orders</c> is then the runtime role, with DML only (ADR 0020). Without
    /// it the migrations run on the runtime connection, which must then be allowed DDL.
    /// </summary>
    public const string MigrationsSuffix = "Migrations";

    /// <summary>Tags the service's database health check: the error-queue redeliverer waits while it fails.</summary>
    public const string DatabaseHealthTag = "database";

    /// <summary>Tells this process's database connections from those of other replicas of the same service.</summary>
    static readonly string ProcessInstance = Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// The service's own PostgreSQL database. No EF retrying execution strategy: our handlers own their transactions, and a
    /// transient failure is retried by re-running the whole unit of work (MassTransit retry for messages, <see cref="TransientDatabaseRetry"/> for HTTP).
    /// </summary>
    public static IHostApplicationBuilder AddServiceDatabase<TDbContext>(this IHostApplicationBuilder builder, string connectionName)
        where TDbContext : DbContext
    {
        var configured = builder.Configuration.GetConnectionString(connectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{connectionName} is not configured");
        var migrations = builder.Configuration.GetConnectionString(connectionName + MigrationsSuffix) is { Length: > 0 } owner
            ? WithHost(new NpgsqlConnectionStringBuilder(owner) { ApplicationName = $"{connectionName.ToLowerInvariant()}-migrations-{ProcessInstance}" },
                builder.Configuration).ConnectionString
            : null;
        builder.Services.AddSingleton(new MigrationConnection<TDbContext>(migrations));
        // Every message is a short unit of work on a pooled connection; resetting the session (DISCARD ALL) on each return
        // to the pool costs a round trip per message, and we keep no session state that would need it.
        // The hot path runs the same dozen statements for every message: preparing them once per physical connection saves
        // PostgreSQL parsing and planning them again each time (docs/benchmark.md). Prepared statements are session state
        // that survives NoResetOnClose, which is what we want; a schema change drops them (migrations run before traffic).
        var connection = new NpgsqlConnectionStringBuilder(configured)
        {
            NoResetOnClose = true,
            MaxAutoPrepare = 64,
            AutoPrepareMinUsages = 3,
        };
        // Named per process ("orders-3f9c0a1b"): pg_stat_activity shows which service and replica holds a connection, and
        // the Orders replicas tell their own status changes from other replicas' by it (OrderStatusListener).
        connection.ApplicationName = $"{connection.ApplicationName ?? connectionName.ToLowerInvariant()}-{ProcessInstance}";
        // Database:Host replaces the host of the configured connection string. On one box the start scripts set it to
        // PostgreSQL's Unix socket directory: a round trip over a Unix socket skips the kernel's TCP/IP path, which is a
        // measurable share of an order's CPU on 2 cores (docs/benchmark.md).
        var connectionString = WithHost(connection, builder.Configuration).ConnectionString;

        // Pooled contexts: one is rented per message and per request, so allocating and configuring a new one each time
        // is measurable CPU on the hot path (docs/benchmark.md).
        builder.Services.AddDbContextPool<TDbContext>(options => options
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", "public"))
            .UseQueryTrackingBehavior(QueryTrackingBehavior.TrackAll)
            .LeaveFailedCommandsToTheirCallers());
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck<TDbContext>>($"{connectionName}-database", tags: [DatabaseHealthTag]);
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddNpgsql());
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddNpgsqlInstrumentation());
        return builder;
    }

    /// <summary>
    /// A failed command reaches its caller as an exception, and the caller decides: the inbox acknowledges a duplicate, an
    /// idempotent submit answers the earlier order, MassTransit retries and logs a real fault, ASP.NET logs an unhandled one.
    /// EF logging each of them as an error with its stack trace first is noise (every duplicate delivery looked like a
    /// failure) and, at a few hundred a minute, measurable CPU. So EF logs them at Debug only; a failed BEGIN, COMMIT or
    /// ROLLBACK too (a terminated connection logged one error per unit of work that met it, each then retried).
    /// </summary>
    public static TBuilder LeaveFailedCommandsToTheirCallers<TBuilder>(this TBuilder options)
        where TBuilder : DbContextOptionsBuilder
    {
        options.ConfigureWarnings(warnings => warnings.Log(
            (CoreEventId.SaveChangesFailed, LogLevel.Debug),
            (RelationalEventId.CommandError, LogLevel.Debug),
            (RelationalEventId.TransactionError, LogLevel.Debug)));
        return options;
    }

    static NpgsqlConnectionStringBuilder WithHost(NpgsqlConnectionStringBuilder connection, IConfiguration configuration)
    {
        if (configuration[DatabaseHostKey] is { Length: > 0 } host)
            connection.Host = host;
        return connection;
    }

    /// <summary>The command line word that makes a service apply its migrations and exit: <c>dotnet EventShop.Orders.dll migrate</c>.</summary>
    public const string MigrateCommand = "migrate";

    /// <summary>True when the service was started as its migration command (<see cref="MigrateCommand"/>).</summary>
    public static bool IsMigrateCommand(string[] args) => args is [MigrateCommand];

    /// <summary>
    /// What a service does with its database before it serves (ADR 0020). Given its owner role's connection string
    /// (<c>ConnectionStrings:&lt;name&gt;Migrations</c>, a developer's convenience: the tests, older launchers), it applies the
    /// migrations itself. Without it, as the launchers run it, the migration command has run first as the owner, and the
    /// service, holding only its runtime role, waits until the database has no pending migration: a new version started
    /// before its migrations ran waits for them instead of failing on a missing column.
    /// </summary>
    public static Task PrepareDatabaseAsync<TDbContext>(this WebApplication app)
        where TDbContext : DbContext =>
        app.Services.GetRequiredService<MigrationConnection<TDbContext>>().ConnectionString is null
            ? app.WaitForMigratedDatabaseAsync<TDbContext>()
            : app.MigrateDatabaseAsync<TDbContext>();

    /// <summary>
    /// Applies pending migrations, waiting for the database to come up rather than crashing: as the owner role when
    /// <c>ConnectionStrings:&lt;name&gt;Migrations</c> is configured, which also creates the fault-rules table when fault
    /// injection is on (the runtime role may not).
    /// </summary>
    public static async Task MigrateDatabaseAsync<TDbContext>(this WebApplication app)
        where TDbContext : DbContext
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("EventShop.Migrations");
        var owner = app.Services.GetRequiredService<MigrationConnection<TDbContext>>().ConnectionString;
        await UntilTheDatabaseAnswers(logger, "to apply the migrations").ExecuteAsync(async token =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            if (owner is null)
            {
                await scope.ServiceProvider.GetRequiredService<TDbContext>().Database.MigrateAsync(token);
                return;
            }
            var options = new DbContextOptionsBuilder<TDbContext>()
                .UseNpgsql(owner, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", "public"))
                .LeaveFailedCommandsToTheirCallers()
                .Options;
            await using var context = ActivatorUtilities.CreateInstance<TDbContext>(scope.ServiceProvider, options);
            await context.Database.MigrateAsync(token);
            if (MessagingServiceCollectionExtensions.FaultsEnabled(app.Configuration))
            {
                await context.Database.OpenConnectionAsync(token);
                await FaultRules.EnsureTableAsync((NpgsqlConnection)context.Database.GetDbConnection(), token);
            }
        });
    }

    /// <summary>
    /// Waits, on the runtime role, until every migration this build knows has been applied; gives up after about a minute
    /// with the command that applies them, rather than serving on a schema it was not built for.
    /// </summary>
    static async Task WaitForMigratedDatabaseAsync<TDbContext>(this WebApplication app)
        where TDbContext : DbContext
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("EventShop.Migrations");
        try
        {
            await UntilTheDatabaseAnswers(logger, "for the migrations to be applied", alsoRetry: typeof(PendingMigrationsException))
                .ExecuteAsync(async token =>
                {
                    await using var scope = app.Services.CreateAsyncScope();
                    var pending = (await scope.ServiceProvider.GetRequiredService<TDbContext>().Database.GetPendingMigrationsAsync(token)).ToList();
                    if (pending.Count > 0)
                        throw new PendingMigrationsException(pending);
                });
        }
        catch (PendingMigrationsException pending)
        {
            var assembly = typeof(TDbContext).Assembly.GetName().Name;
            throw new InvalidOperationException(
                $"The database has {pending.Migrations.Count} migration(s) this build needs and nobody applied ({string.Join(", ", pending.Migrations)}). " +
                $"Run 'dotnet {assembly}.dll {MigrateCommand}' with the owner role's connection string (ConnectionStrings:<name>{MigrationsSuffix}) first (ADR 0020).");
        }
    }

    static ResiliencePipeline UntilTheDatabaseAnswers(ILogger logger, string waitingTo, Type? alsoRetry = null) =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = 60,
                Delay = TimeSpan.FromSeconds(1),
                ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>().Handle<Exception>(e => e.GetType() == alsoRetry),
                OnRetry = args =>
                {
                    // One line per second while waiting; the reason, not a stack trace (a database starting up is not a fault).
                    logger.LogWarning("Waiting {WaitingTo} (attempt {Attempt}): {Reason}", waitingTo, args.AttemptNumber + 1, args.Outcome.Exception?.Message);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    sealed class PendingMigrationsException(IReadOnlyList<string> migrations) : Exception("Pending migrations: " + string.Join(", ", migrations))
    {
        public IReadOnlyList<string> Migrations { get; } = migrations;
    }
}

/// <summary>The owner role's connection string for <typeparamref name="TDbContext"/>'s migrations, or null to migrate on the runtime one.</summary>
public sealed record MigrationConnection<TDbContext>(string? ConnectionString)
    where TDbContext : DbContext;
