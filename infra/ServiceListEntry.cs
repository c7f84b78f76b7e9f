namespace EventShop.Infra;

/// <summary>
/// One line of <c>infra/services</c>, the one list of EventShop's services. Compiled into the AppHost and the test fixtures
/// (linked, not copied) so there is one reader as there is one list.
/// </summary>
/// <param name="Name">The service's name: its resource, its log, its gateway cluster, its OTEL_SERVICE_NAME.</param>
/// <param name="Project">The project directory, relative to the repository root; the project file is named after it.</param>
/// <param name="Port">The fixed local port (infra/eventshop, the AppHost, launchSettings.json, the gateway's defaults).</param>
/// <param name="Database">The connection string's name (ConnectionStrings:Orders), or null when the service has no database.</param>
public sealed record ServiceListEntry(string Name, string Project, int Port, string? Database)
{
    public string ProjectFile => Path.Combine(Project, Path.GetFileName(Project) + ".csproj");

    public static IReadOnlyList<ServiceListEntry> Load(string repositoryRoot) =>
        Parse(File.ReadAllText(Path.Combine(repositoryRoot, "infra", "services")));

    /// <summary>Whitespace-separated columns, '#' starts a comment line: what bash's <c>read</c> takes as well.</summary>
    public static IReadOnlyList<ServiceListEntry> Parse(string text)
    {
        var services = new List<ServiceListEntry>();
        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#'))
                continue;
            var columns = trimmed.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length != 4 || !int.TryParse(columns[2], out var port))
                throw new FormatException($"infra/services: expected 'name project port database', got '{trimmed}'");
            services.Add(new ServiceListEntry(columns[0], columns[1], port, columns[3] == "-" ? null : columns[3]));
        }

        return services;
    }
}
