using System.Diagnostics;
using Npgsql;

namespace EventShop.Testing;

/// <summary>
/// A PostgreSQL server of the test's own (own port, data directory and socket directory), so a test can crash and restart
/// the database under running services without touching the PostgreSQL other tests and engineers share. Debian's server
/// binaries, run as the postgres OS user (PostgreSQL refuses to run as root), with trust authentication on loopback only.
/// </summary>
public sealed class PrivatePostgresNode : IAsyncDisposable
{
    const string BinDirectory = "/usr/lib/postgresql/15/bin";

    readonly string _directory = Path.Combine(Path.GetTempPath(), "eventshop-postgres-" + Guid.NewGuid().ToString("N")[..8]);
    readonly string _superuser;

    /// <param name="superuser">The bootstrap superuser's name: another than the role a test is about.</param>
    public PrivatePostgresNode(string superuser = "eventshop")
    {
        _superuser = superuser;
        Port = TestInfrastructure.FreeTcpPort();
    }

    public int Port { get; }

    /// <summary>
    /// Also listen on the host's end of this partition's veth, trusting its namespace's address: so a service run in the
    /// namespace reaches this server, and a test can cut it off (<see cref="NetworkPartition.PartitionAsync"/>).
    /// </summary>
    public NetworkPartition? ReachableFrom { get; init; }

    string ListenAddresses => ReachableFrom is null ? "127.0.0.1" : $"127.0.0.1,{ReachableFrom.HostAddress}";

    /// <summary>
    /// Run the server with its wall clock this far from the host's (libfaketime), so its now() and every time it stamps
    /// differ from the test process's: for a test of code that must compare those times on the database's clock.
    /// The backends that run the queries have it; some of the postmaster's own log lines show the real time (libfaketime
    /// does not skew while the postmaster waits in select, where its signal handlers run), so check it with <c>SELECT now()</c>.
    /// </summary>
    public TimeSpan? ClockOffset { get; init; }

    public DatabaseEndpoint Endpoint => new("127.0.0.1", Port, _superuser, "unused-trust-auth");

    string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>
    /// A connection as <paramref name="role"/> to <paramref name="database"/>, unpooled. The server trusts loopback: what
    /// refuses a role here is NOLOGIN or a missing CONNECT privilege, never its password.
    /// </summary>
    public async Task<NpgsqlConnection> OpenAsAsync(string role, string database = "postgres")
    {
        var connection = new NpgsqlConnection(Endpoint.As(role, "trusted").ConnectionString(database, maxPoolSize: 1) + ";Pooling=false");
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates and starts the server; if it cannot, removes whatever part of it did start.</summary>
    public async Task StartAsync()
    {
        if (ClockOffset is not null && !FakeTime.Installed)
            throw new InvalidOperationException(FakeTime.MissingMessage);
        try
        {
            Directory.CreateDirectory(_directory);
            await RunAsync("chown", "postgres:postgres", _directory);
            await AsPostgresAsync("initdb", "-D", DataDirectory, "-U", _superuser, "--auth=trust", "--no-sync");
            if (ReachableFrom is not null)
                await File.AppendAllTextAsync(Path.Combine(DataDirectory, "pg_hba.conf"), $"host all all {ReachableFrom.NamespaceAddress}/32 trust\n");
            await StartServerAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>Like a crash: every backend killed at once, no checkpoint; the next start replays the WAL.</summary>
    public Task CrashAsync() => AsPostgresAsync("pg_ctl", "-D", DataDirectory, "stop", "-m", "immediate");

    // fsync off: this server's data only has to survive a crash of PostgreSQL, not of the machine. Many connections:
    // six services with their pools reconnect at once after a restart.
    public Task StartServerAsync() => AsPostgresAsync("pg_ctl", ClockEnvironment(), "-D", DataDirectory, "-w", "-t", "60", "-l", Path.Combine(_directory, "server.log"),
        "-o", $"-p {Port} -k {_directory} -c listen_addresses={ListenAddresses} -c max_connections=300 -c fsync=off", "start");

    /// <summary>
    /// pg_ctl passes its environment to the postmaster, which forks every backend: all of them read the skewed clock. pg_ctl
    /// itself too, as it compares the postmaster's start time with its own while it waits. Timers and waits run on the
    /// monotonic clock, left alone: only the wall clock is off, as with a bad NTP.
    /// </summary>
    string[] ClockEnvironment() => ClockOffset is { } offset
        ? [$"LD_PRELOAD={FakeTime.Library}", $"FAKETIME={FakeTime.Offset(offset)}", "DONT_FAKE_MONOTONIC=1"]
        : [];

    public async ValueTask DisposeAsync()
    {
        try
        {
            await AsPostgresAsync("pg_ctl", "-D", DataDirectory, "stop", "-m", "immediate");
        }
        catch (InvalidOperationException)
        {
            // not running (never started, or already stopped)
        }

        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { /* left in the temp folder */ }
    }

    static Task AsPostgresAsync(string binary, params string[] arguments) => AsPostgresAsync(binary, [], arguments);

    // The environment is set by env after runuser: only the server's own processes get it, not runuser (running as root).
    static Task AsPostgresAsync(string binary, string[] environment, params string[] arguments) =>
        RunAsync("runuser", ["-u", "postgres", "--", "env", .. environment, Path.Combine(BinDirectory, binary), .. arguments]);

    static async Task RunAsync(string file, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await error}");
    }
}
