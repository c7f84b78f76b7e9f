using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;

namespace EventShop.Testing;

/// <summary>
/// A Linux network namespace of the test's own, joined to the host by a veth pair on a /30 of its own, so one service can run
/// in it (<see cref="ServiceProcess.NetworkNamespace"/>) and be cut off from one server while everything else still reaches it.
/// The service reaches the host's servers at <see cref="HostAddress"/>, the host reaches the service at
/// <see cref="NamespaceAddress"/>. <see cref="PartitionAsync"/> drops (never rejects) every packet between the namespace and
/// one port of the host, both ways: no RST, no ICMP, the connections in flight hang as across a real network partition,
/// which a stopped or killed server never shows (its kernel answers with a reset). Needs root, iproute2 and nftables.
/// </summary>
public sealed class NetworkPartition : IAsyncDisposable
{
    /// <summary>Every namespace and host-side veth of this class starts so; the creator's process id follows (<see cref="RemoveLeftoversAsync"/>).</summary>
    const string Prefix = "esnp";

    static int _created;

    bool _disposed;

    NetworkPartition(string name, IPAddress hostAddress, IPAddress namespaceAddress)
    {
        Name = name;
        HostAddress = hostAddress;
        NamespaceAddress = namespaceAddress;
    }

    /// <summary>The namespace's name (<c>ip netns exec</c>); also the host-side veth's, with an "h" (15 characters at most).</summary>
    public string Name { get; }

    /// <summary>The host's end of the veth: where a process in the namespace reaches the host's servers.</summary>
    public IPAddress HostAddress { get; }

    /// <summary>The namespace's end of the veth: where the host reaches a server in the namespace.</summary>
    public IPAddress NamespaceAddress { get; }

    /// <summary>The ports cut off now, for the failure message.</summary>
    public IReadOnlyCollection<int> PartitionedPorts => _partitioned;

    readonly List<int> _partitioned = [];

    /// <summary>
    /// Creates the namespace and its veth pair on a /30 no interface of the host uses yet; if any step fails, removes what was
    /// made. Leftovers of earlier runs that were killed (their creator process is gone) are removed first.
    /// </summary>
    public static async Task<NetworkPartition> CreateAsync()
    {
        await RemoveLeftoversAsync();
        var name = $"{Prefix}{Environment.ProcessId}x{Interlocked.Increment(ref _created)}";
        if (name.Length > 14)
            throw new InvalidOperationException($"{name}: an interface name has 15 characters at most");
        var subnet = FreeSubnet();
        var partition = new NetworkPartition(name, Offset(subnet, 1), Offset(subnet, 2));
        try
        {
            await IpAsync("netns", "add", name);
            await IpAsync("link", "add", partition.HostInterface, "type", "veth", "peer", "name", partition.NamespaceInterface);
            await IpAsync("link", "set", partition.NamespaceInterface, "netns", name);
            await IpAsync("addr", "add", $"{partition.HostAddress}/30", "dev", partition.HostInterface);
            await IpAsync("link", "set", partition.HostInterface, "up");
            await IpAsync("-n", name, "addr", "add", $"{partition.NamespaceAddress}/30", "dev", partition.NamespaceInterface);
            await IpAsync("-n", name, "link", "set", partition.NamespaceInterface, "up");
            await IpAsync("-n", name, "link", "set", "lo", "up");
            // The table that PartitionAsync fills: a filter on the namespace's own output and input, accepting all for now.
            await NftAsync(name, """
                table inet partition {
                    chain output { type filter hook output priority 0; policy accept; }
                    chain input { type filter hook input priority 0; policy accept; }
                }
                """);
            return partition;
        }
        catch
        {
            await partition.DisposeAsync();
            throw;
        }
    }

    string HostInterface => Name + "h";

    string NamespaceInterface => Name + "n";

    /// <summary>The command line a process must be started with to run in the namespace (then the program and its arguments).</summary>
    public IReadOnlyList<string> ExecPrefix => ["netns", "exec", Name];

    /// <summary>
    /// From now on every packet between the namespace and <see cref="HostAddress"/>:<paramref name="port"/> is dropped, both
    /// ways, the connections already open included.
    /// </summary>
    public async Task PartitionAsync(int port)
    {
        await NftAsync(Name, $"""
            add rule inet partition output ip daddr {HostAddress} tcp dport {port} drop comment "port-{port}"
            add rule inet partition input ip saddr {HostAddress} tcp sport {port} drop comment "port-{port}"
            """);
        _partitioned.Add(port);
    }

    /// <summary>Lets every packet through again: connections that survived the partition resume (TCP retransmits what was lost).</summary>
    public async Task HealAsync()
    {
        await NftAsync(Name, "flush chain inet partition output\nflush chain inet partition input");
        _partitioned.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await RemoveAsync(Name);
    }

    /// <summary>
    /// Deleting the namespace deletes its end of the veth and so the pair; a host end whose namespace was never made (a
    /// creation that failed half-way) is deleted by name. Both tolerate being gone already.
    /// </summary>
    static async Task RemoveAsync(string name)
    {
        await RunAsync("ip", ["netns", "del", name], tolerateFailure: true);
        await RunAsync("ip", ["link", "del", name + "h"], tolerateFailure: true);
    }

    /// <summary>
    /// Namespaces and host-side veths of this class whose creator process is gone (a test run killed before it disposed
    /// them): they would keep their /30 taken for ever. Those of a live process (another test run on this machine) are left alone.
    /// </summary>
    static async Task RemoveLeftoversAsync()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (Directory.Exists("/run/netns"))
            names.UnionWith(Directory.GetFiles("/run/netns").Select(Path.GetFileName).OfType<string>());
        names.UnionWith(NetworkInterface.GetAllNetworkInterfaces().Select(i => i.Name).Where(n => n.EndsWith('h')).Select(n => n[..^1]));
        foreach (var name in names.Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var owner = name[Prefix.Length..].Split('x')[0];
            if (int.TryParse(owner, out var pid) && !Directory.Exists($"/proc/{pid}"))
                await RemoveAsync(name);
        }
    }

    /// <summary>A random /30 of 10.213.0.0/16 that overlaps no address of the host's interfaces.</summary>
    static IPAddress FreeSubnet()
    {
        var used = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address.GetAddressBytes())
            .Where(b => b.Length == 4 && b[0] == 10 && b[1] == 213)
            .Select(b => (b[2] << 8) | (b[3] & 0xFC))
            .ToHashSet();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var block = Random.Shared.Next(0, 1 << 16) & 0xFFFC;
            if (!used.Contains(block))
                return new IPAddress([10, 213, (byte)(block >> 8), (byte)block]);
        }
        throw new InvalidOperationException("no free /30 in 10.213.0.0/16");
    }

    static IPAddress Offset(IPAddress subnet, int host)
    {
        var bytes = subnet.GetAddressBytes();
        bytes[3] += (byte)host;
        return new IPAddress(bytes);
    }

    static Task IpAsync(params string[] arguments) => RunAsync("ip", arguments, tolerateFailure: false);

    /// <summary>An nftables script run in the namespace (<c>nft -f -</c>): its rules apply to its traffic only.</summary>
    static async Task NftAsync(string name, string script)
    {
        var startInfo = new ProcessStartInfo("ip", ["netns", "exec", name, "nft", "-f", "-"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Start(startInfo);
        await process.StandardInput.WriteAsync(script);
        process.StandardInput.Close();
        await WaitAsync(process, $"nft in {name}: {script}", tolerateFailure: false);
    }

    static async Task RunAsync(string file, string[] arguments, bool tolerateFailure)
    {
        var startInfo = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Start(startInfo);
        await WaitAsync(process, $"{file} {string.Join(' ', arguments)}", tolerateFailure);
    }

    static Process Start(ProcessStartInfo startInfo)
    {
        try
        {
            return Process.Start(startInfo) ?? throw new InvalidOperationException($"{startInfo.FileName} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{startInfo.FileName} is missing: a network partition needs iproute2 and nftables (infra/local/ensure-infra.sh installs them)", e);
        }
    }

    static async Task WaitAsync(Process process, string what, bool tolerateFailure)
    {
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 && !tolerateFailure)
            throw new InvalidOperationException($"{what} failed ({process.ExitCode}): {await output}{await error}");
    }
}
