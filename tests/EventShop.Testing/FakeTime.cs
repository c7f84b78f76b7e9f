namespace EventShop.Testing;

/// <summary>
/// libfaketime (Debian's faketime package, installed by infra/local/ensure-infra.sh): preloaded into a process, it moves
/// the process's wall clock, so a test can run a service or a database on a clock other than the test's.
/// </summary>
public static class FakeTime
{
    public const string Library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

    public const string MissingMessage = $"{Library} is missing: apt-get install faketime (infra/local/ensure-infra.sh installs it)";

    public static bool Installed => File.Exists(Library);

    /// <summary>FAKETIME's relative form, e.g. "+3600s": the wall clock this far from the real one, and running at its pace.</summary>
    public static string Offset(TimeSpan offset) => $"{(offset < TimeSpan.Zero ? "-" : "+")}{Math.Abs((long)offset.TotalSeconds)}s";
}
