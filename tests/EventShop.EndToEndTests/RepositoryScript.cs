using System.Diagnostics;
using EventShop.Testing;

namespace EventShop.EndToEndTests;

/// <summary>One of the repository's scripts, run with bash as a developer runs it.</summary>
static class RepositoryScript
{
    /// <summary>The exit code and what the script logged (its standard error, where our scripts log).</summary>
    public static async Task<(int ExitCode, string Log)> RunAsync(string script, IReadOnlyDictionary<string, string> environment,
        params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("bash", [Path.Combine(RepositoryLayout.Root, script), .. arguments])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
            startInfo.Environment[name] = value;
        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var log = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        await output;
        return (process.ExitCode, await log);
    }
}
