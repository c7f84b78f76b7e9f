namespace EventShop.Testing;

/// <summary>Finds the repository and the built service binaries from wherever the test assembly runs.</summary>
public static class RepositoryLayout
{
    public static string Root { get; } = FindRoot();

    /// <summary>Release or Debug: the same configuration the tests were built with (dotnet test builds the services too).</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string ServiceBinaries(string projectDirectory) =>
        Path.Combine(Root, projectDirectory, "bin", Configuration, "net10.0");

    static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EventShop.sln")))
                return directory.FullName;
        }

        throw new InvalidOperationException("EventShop.sln not found above " + AppContext.BaseDirectory);
    }
}
