namespace EventShop.Testing;

/// <summary>RabbitMQ's three permissions of one service's broker user, as <c>infra/broker-permissions</c> gives them.</summary>
public sealed record BrokerPermissions(string Configure, string Write, string Read)
{
    /// <summary>Every service with a broker user of its own, from <c>infra/broker-permissions</c> (what ensure-infra.sh reads too).</summary>
    public static IReadOnlyDictionary<string, BrokerPermissions> Load() =>
        Parse(File.ReadAllText(Path.Combine(RepositoryLayout.Root, "infra", "broker-permissions")));

    /// <summary>Lines of 'service permission pattern'; '#' starts a comment line.</summary>
    public static IReadOnlyDictionary<string, BrokerPermissions> Parse(string text)
    {
        var patterns = new Dictionary<(string Service, string Permission), string>();
        foreach (var line in text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var columns = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length != 3 || columns[1] is not ("configure" or "write" or "read"))
                throw new FormatException($"infra/broker-permissions: expected 'service configure|write|read pattern', got '{line}'");
            patterns[(columns[0], columns[1])] = columns[2];
        }
        return patterns.Keys.Select(k => k.Service).Distinct().ToDictionary(service => service, service => new BrokerPermissions(
            Pattern(patterns, service, "configure"), Pattern(patterns, service, "write"), Pattern(patterns, service, "read")));
    }

    static string Pattern(Dictionary<(string, string), string> patterns, string service, string permission) =>
        patterns.TryGetValue((service, permission), out var pattern)
            ? pattern
            : throw new FormatException($"infra/broker-permissions: no '{permission}' line for {service}");
}
