using System.Diagnostics;

namespace EventShop.Testing;

/// <summary>
/// A RabbitMQ node of the test's own (own port, data directory and node name), so a test can stop and start the broker under
/// running services without disturbing any other test that shares the main broker.
/// </summary>
public sealed class PrivateRabbitMqNode : IAsyncDisposable
{
    readonly string _directory = Path.Combine(Path.GetTempPath(), "eventshop-rabbit-" + Guid.NewGuid().ToString("N")[..8]);
    readonly string _nodeName;
    readonly System.Text.StringBuilder _output = new();
    Process? _server;
    bool _disposed;

    public PrivateRabbitMqNode()
    {
        Port = TestInfrastructure.FreeTcpPort();
        ManagementPort = TestInfrastructure.FreeTcpPort();
        _nodeName = $"es-{Port}@localhost";
    }

    public int Port { get; }

    /// <summary>The management API's port, served when <see cref="WithManagement"/>.</summary>
    public int ManagementPort { get; }

    /// <summary>Also serve the management API (on <see cref="ManagementPort"/>, loopback only).</summary>
    public bool WithManagement { get; init; }

    /// <summary>
    /// A definitions file the node loads at boot (<c>load_definitions</c>), as compose's broker loads its own: then the node
    /// creates no default user, so <see cref="Endpoint"/>'s guest does not exist.
    /// </summary>
    public string? DefinitionsFile { get; init; }

    /// <summary>
    /// Also listen on the host's end of this partition's veth, and let guest in from there (RabbitMQ admits it from loopback
    /// only): so a service run in the namespace reaches this node, and a test can cut it off (<see cref="NetworkPartition.PartitionAsync"/>).
    /// </summary>
    public NetworkPartition? ReachableFrom { get; init; }

    /// <summary>For <c>rabbitmqctl -n</c>.</summary>
    public string NodeName => _nodeName;

    public BrokerEndpoint Endpoint => new("localhost", Port, WithManagement ? ManagementPort : 0, "guest", "guest");

    /// <summary>Starts the node; if it cannot, stops whatever part of it did start, so no broker outlives the test run.</summary>
    public async Task StartAsync()
    {
        try
        {
            await StartNodeAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    async Task StartNodeAsync()
    {
        Directory.CreateDirectory(_directory);
        WriteConfiguration();
        // rabbitmq-server drops to the rabbitmq user when started as root: it must own its directory and what is in it.
        await RunAsync("chown", "-R", "rabbitmq:rabbitmq", _directory);

        var startInfo = new ProcessStartInfo("rabbitmq-server") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in Environment())
            startInfo.Environment[key] = value;
        _server = Process.Start(startInfo) ?? throw new InvalidOperationException("rabbitmq-server did not start (is it installed? infra/local/ensure-infra.sh)");
        Append("---- rabbitmq-server started ----");
        _server.OutputDataReceived += (_, e) => Append(e.Data);
        _server.ErrorDataReceived += (_, e) => Append(e.Data);
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        // await_startup fails at once while the node has not registered with epmd yet: retry until it answers.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await CtlAsync("await_startup", "--timeout", "60");
                return;
            }
            catch (InvalidOperationException) when (attempt < 60 && !_server.HasExited)
            {
                await Task.Delay(500);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"node {_nodeName} did not start ({(_server.HasExited ? "rabbitmq-server exited" : "no answer")}): "
                    + $"{e.Message}\n{RecentOutput}", e);
            }
        }
    }

    void WriteConfiguration()
    {
        var configuration = new List<string>();
        if (WithManagement)
        {
            File.WriteAllText(Path.Combine(_directory, "plugins"), "[rabbitmq_management].\n");
            configuration.AddRange([$"management.tcp.port = {ManagementPort}", "management.tcp.ip = 127.0.0.1"]);
        }

        if (DefinitionsFile is not null)
        {
            var copy = Path.Combine(_directory, "definitions.json");
            File.Copy(DefinitionsFile, copy, overwrite: true);
            configuration.Add($"load_definitions = {copy}");
        }

        if (ReachableFrom is not null)
            configuration.AddRange([$"listeners.tcp.1 = 127.0.0.1:{Port}", $"listeners.tcp.2 = {ReachableFrom.HostAddress}:{Port}", "loopback_users = none"]);

        if (configuration.Count > 0)
            File.WriteAllLines(Path.Combine(_directory, "rabbitmq.conf"), configuration);
    }

    /// <summary>The tail of the node's console output (rabbitmq-server's stdout and stderr), across restarts.</summary>
    public string RecentOutput
    {
        get
        {
            lock (_output)
                return _output.Length > 6000 ? _output.ToString(_output.Length - 6000, 6000) : _output.ToString();
        }
    }

    void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
    }

    /// <summary>The broker goes away for every client (connections closed, port refused) but the node keeps its data.</summary>
    public Task StopBrokerAsync() => CtlAsync("stop_app");

    public Task StartBrokerAsync() => CtlAsync("start_app");

    /// <summary>Like a crash of the broker's machine process: SIGKILL to the Erlang VM (beam), no clean shutdown of anything.</summary>
    public async Task KillBrokerAsync()
    {
        var pid = (await File.ReadAllTextAsync(Path.Combine(_directory, "pid"))).Trim();
        Append($"---- kill -9 {pid} (beam) ----");
        await RunAsync("kill", "-9", pid);
        if (_server is not null)
            await _server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        _server?.Dispose();
        _server = null;
    }

    /// <summary>Messages in each queue of the node (quorum queues count the unacknowledged ones too).</summary>
    public async Task<IReadOnlyDictionary<string, long>> QueueDepthsAsync()
    {
        var json = await RunAsync("rabbitmqctl", ["-n", _nodeName, "list_queues", "name", "messages", "--formatter", "json"]);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().ToDictionary(q => q.GetProperty("name").GetString()!, q => q.GetProperty("messages").GetInt64());
    }

    /// <summary>Boots the node again after <see cref="KillBrokerAsync"/>, on the same data directory and port.</summary>
    public Task StartAfterKillAsync() => StartNodeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            await CtlAsync("stop");
        }
        catch (InvalidOperationException)
        {
            if (_server is { HasExited: false })
                _server.Kill(entireProcessTree: true);
        }

        _server?.Dispose();
        _server = null;
        KeepLogs();
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { /* left in the temp folder */ }
    }

    /// <summary>
    /// With EVENTSHOP_TEST_LOG_DIR set (as for the services' output, <see cref="ServiceProcess"/>), the node's console output
    /// and its log directory are kept there: what a broker fault run needs to tell the node's failures from the services'.
    /// </summary>
    void KeepLogs()
    {
        if (System.Environment.GetEnvironmentVariable("EVENTSHOP_TEST_LOG_DIR") is not { Length: > 0 } logDirectory)
            return;
        var kept = Path.Combine(logDirectory, $"{DateTime.UtcNow:HHmmss}-rabbit-{_nodeName[..(_nodeName.IndexOf('@'))]}");
        Directory.CreateDirectory(kept);
        File.WriteAllText(Path.Combine(kept, "console.log"), RecentOutputAll());
        var nodeLogs = Path.Combine(_directory, "log");
        if (Directory.Exists(nodeLogs))
            foreach (var file in Directory.GetFiles(nodeLogs))
                File.Copy(file, Path.Combine(kept, Path.GetFileName(file)), overwrite: true);
    }

    string RecentOutputAll()
    {
        lock (_output)
            return _output.ToString();
    }

    Dictionary<string, string> Environment()
    {
        var environment = new Dictionary<string, string>
        {
            ["RABBITMQ_NODENAME"] = _nodeName,
            ["RABBITMQ_NODE_PORT"] = Port.ToString(),
            ["RABBITMQ_DIST_PORT"] = TestInfrastructure.FreeTcpPort().ToString(),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "plugins"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(_directory, "pid"),
            ["RABBITMQ_FEATURE_FLAGS_FILE"] = Path.Combine(_directory, "feature_flags"),
            ["RABBITMQ_PLUGINS_EXPAND_DIR"] = Path.Combine(_directory, "plugins-expand"),
            ["RABBITMQ_QUORUM_DIR"] = Path.Combine(_directory, "quorum"),
        };
        if (WithManagement || DefinitionsFile is not null || ReachableFrom is not null)
            environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(_directory, "rabbitmq.conf");
        return environment;
    }

    public Task<string> CtlAsync(params string[] arguments) => RunAsync("rabbitmqctl", ["-n", _nodeName, .. arguments]);

    static async Task<string> RunAsync(string file, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await error}");
        return await output;
    }
}
