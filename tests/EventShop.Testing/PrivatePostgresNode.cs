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
    public Task StartServerAsync() => AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-w", "-t", "60", "-l", Path.Combine(_directory, "server.log"),
        "-o", $"-p {Port} -k {_directory} -c listen_addresses={ListenAddresses} -c max_connections=300 -c fsync=off", "start");

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

    static Task AsPostgresAsync(string binary, params string[] arguments) =>
        RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(BinDirectory, binary), .. arguments]);

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
