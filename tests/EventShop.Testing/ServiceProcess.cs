using System.Diagnostics;
using System.Text;

namespace EventShop.Testing;

/// <summary>
/// One EventShop service running as a real process, exactly as the local run starts it, so tests can kill it (SIGKILL) and
/// restart it. Its output is kept for the failure message.
/// <para>
/// With <see cref="Supervise"/> it is restarted when it dies on its own (a crash fault, ADR 0014), after 1 s, 2 s, 4 s
/// (back to 1 s once it ran 10 s), as the run command's supervisor does but capped lower: the scenario library crashes the
/// same service again and again, a few seconds apart, and a backoff grown to 16 s (the run command's cap is 30 s) outlasted
/// the 20 s step timeout a crash scenario expects the restarted service to beat. A kill by the test is not restarted.
/// </para>
/// </summary>
public sealed class ServiceProcess(string name, string projectDirectory, int port, IReadOnlyDictionary<string, string> environment) : IAsyncDisposable
{
    static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(4);
    static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(10);

    readonly StringBuilder _output = new();
    readonly Lock _lifecycle = new();
    readonly StreamWriter? _log = OpenLog(name);
    Process? _process;
    bool _stoppedByTest;
    int _restarts;
    int _consecutiveRestarts;
    DateTime _startedAt;

    /// <summary>Restart the process when it exits without the test having killed it.</summary>
    public bool Supervise { get; init; }

    /// <summary>How many times the supervisor restarted the process.</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>
    /// The exit code of the last process that ended on its own (not killed by the test), and when: what a supervisor sees,
    /// for example 70 from a service whose receive endpoint stayed down (ReceiveEndpointWatchdog). Null until one did.
    /// </summary>
    public (int Code, DateTime At)? LastExit
    {
        get
        {
            lock (_lifecycle)
                return _lastExit;
        }
    }

    (int Code, DateTime At)? _lastExit;

    /// <summary>
    /// Run the process in this network namespace (<c>ip netns exec</c>, which execs the program itself: the process is the
    /// service's, so a kill reaches it), listening on <see cref="NetworkPartition.NamespaceAddress"/> instead of loopback.
    /// </summary>
    public NetworkPartition? NetworkNamespace { get; init; }

    public string Name { get; } = name;
    public int Port { get; } = port;
    public Uri BaseAddress => new($"http://{NetworkNamespace?.NamespaceAddress.ToString() ?? "127.0.0.1"}:{Port}");
    public bool IsRunning => _process is { HasExited: false };
    public int? ProcessId => _process?.Id;

    public string RecentOutput
    {
        get
        {
            lock (_output)
                return _output.Length > 6000 ? _output.ToString(_output.Length - 6000, 6000) : _output.ToString();
        }
    }

    public void Start()
    {
        var startInfo = StartInfo();
        lock (_lifecycle)
        {
            _stoppedByTest = false;
            _startedAt = DateTime.UtcNow;
            var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {Name}");
            _process = process;
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.EnableRaisingEvents = true;
            process.Exited += (_, _) => OnExited(process);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }
    }

    /// <summary>
    /// Runs the service's <paramref name="command"/> (<c>migrate</c>) to its end, with its configuration plus
    /// <paramref name="extraEnvironment"/>; throws with its output unless it exits with 0.
    /// </summary>
    public async Task RunCommandAsync(string command, IReadOnlyDictionary<string, string> extraEnvironment, TimeSpan timeout)
    {
        var startInfo = StartInfo(command);
        foreach (var (key, value) in extraEnvironment)
            startInfo.Environment[key] = value;
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {Name} {command}");
        var output = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Name} {command} did not end within {timeout}");
        }
        var (stdout, stderr) = ((await output)[0], (await output)[1]);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Name} {command} exited with code {process.ExitCode}:\n{stdout}\n{stderr}");
    }

    ProcessStartInfo StartInfo(params string[] arguments)
    {
        var binaries = RepositoryLayout.ServiceBinaries(projectDirectory);
        var dll = Path.Combine(binaries, Path.GetFileName(projectDirectory) + ".dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException($"{dll} is missing: build the solution first (dotnet build EventShop.sln -c {RepositoryLayout.Configuration}).");

        var startInfo = new ProcessStartInfo(NetworkNamespace is null ? "dotnet" : "ip",
            NetworkNamespace is null ? [dll, .. arguments] : [.. NetworkNamespace.ExecPrefix, "dotnet", dll, .. arguments])
        {
            WorkingDirectory = binaries,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.Environment["ASPNETCORE_URLS"] = BaseAddress.ToString();
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        startInfo.Environment["Logging__Json"] = "false";
        foreach (var (key, value) in environment)
            startInfo.Environment[key] = value;
        return startInfo;
    }

    void OnExited(Process process)
    {
        TimeSpan backoff;
        lock (_lifecycle)
        {
            if (_stoppedByTest || !ReferenceEquals(process, _process))
                return;
            _lastExit = (process.ExitCode, DateTime.UtcNow);
            if (!Supervise)
                return;
            if (DateTime.UtcNow - _startedAt > StableAfter)
                _consecutiveRestarts = 0;
            backoff = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, _consecutiveRestarts++)));
        }

        Append($"---- {Name} exited (code {process.ExitCode}); the supervisor restarts it in {backoff.TotalSeconds:0} s ----");
        _ = Task.Run(async () =>
        {
            await Task.Delay(backoff);
            lock (_lifecycle)
            {
                if (_stoppedByTest || !ReferenceEquals(process, _process))
                    return;
                Interlocked.Increment(ref _restarts);
                Start();
            }
        });
    }

    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process is { HasExited: true })
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode}:\n{RecentOutput}");
            try
            {
                if ((await http.GetAsync(new Uri(BaseAddress, "/health"))).IsSuccessStatusCode)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{Name} not healthy after {timeout}:\n{RecentOutput}");
    }

    /// <summary>SIGKILL: no graceful shutdown, no chance to flush anything. What a crash looks like.</summary>
    public async Task KillAsync()
    {
        lock (_lifecycle)
            _stoppedByTest = true;
        if (_process is null || _process.HasExited)
            return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        Append($"---- {Name} killed by the test ----");
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        _process = null;
        lock (_output)
            _log?.Dispose();
    }

    /// <summary>
    /// With EVENTSHOP_TEST_LOG_DIR set, the whole output of every service goes to a file there too (RecentOutput keeps only
    /// the tail): what a fault battery run needs to find out why an order got stuck.
    /// </summary>
    static StreamWriter? OpenLog(string name)
    {
        if (System.Environment.GetEnvironmentVariable("EVENTSHOP_TEST_LOG_DIR") is not { Length: > 0 } directory)
            return null;
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{DateTime.UtcNow:HHmmss}-{name}-{Guid.NewGuid().ToString("N")[..6]}.log");
        return new StreamWriter(path) { AutoFlush = true };
    }

    void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
        {
            _output.AppendLine(line);
            _log?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        }
    }
}
