namespace EventShop.Scenarios;

/// <summary>The scenario files under <c>scenarios/</c>, found by path or by name, and run as a library.</summary>
public static class ScenarioLibrary
{
    public static IReadOnlyList<string> Files(string directory) =>
        Directory.EnumerateFiles(directory, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    /// <summary>A path to a file, or a scenario's name (its file name without .yaml, anywhere under the library).</summary>
    public static string Resolve(string fileOrName, string directory)
    {
        if (File.Exists(fileOrName))
            return fileOrName;
        var matches = Files(directory).Where(f => Path.GetFileNameWithoutExtension(f) == fileOrName).ToArray();
        return matches.Length switch
        {
            1 => matches[0],
            0 => throw new ScenarioFormatException($"no scenario file or name '{fileOrName}' (names are the files under {directory})"),
            _ => throw new ScenarioFormatException($"'{fileOrName}' names {matches.Length} files: {string.Join(", ", matches)}"),
        };
    }

    /// <summary>
    /// Runs the scenarios, up to <paramref name="parallelism"/> at once (each has accounts of its own); an exclusive one
    /// (a crash) runs alone, after the others. Each result is reported as soon as its scenario ends.
    /// </summary>
    public static async Task<IReadOnlyList<ScenarioResult>> RunAllAsync(ScenarioRunner runner, IReadOnlyList<Scenario> scenarios,
        int parallelism, Action<ScenarioResult> report, CancellationToken cancellationToken = default)
    {
        var capabilities = await runner.ProbeAsync(cancellationToken);
        var results = new List<ScenarioResult>();
        var gate = new SemaphoreSlim(Math.Max(1, parallelism));
        async Task<ScenarioResult> RunOneAsync(Scenario scenario)
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var result = await runner.RunAsync(scenario, capabilities, cancellationToken);
                lock (results)
                {
                    results.Add(result);
                    report(result);
                }
                return result;
            }
            finally
            {
                gate.Release();
            }
        }

        await Task.WhenAll(scenarios.Where(s => !s.Exclusive).Select(RunOneAsync));
        foreach (var scenario in scenarios.Where(s => s.Exclusive))
            await RunOneAsync(scenario);
        gate.Dispose();
        return results;
    }
}
