using EventShop.Scenarios;

// infra/eventshop scenario run <file|name>... | --all     infra/eventshop scenario export <orderId> [--out file]
// Options: --gateway URL (or EVENTSHOP_GATEWAY; default http://localhost:8080), --dir scenarios/, --parallel N, --verbose.
const string Usage = """
    usage: scenario run <file|name>... [--verbose]
           scenario run --all [--parallel N] [--verbose]
           scenario export <orderId> [--out file]
    options: --gateway URL (or EVENTSHOP_GATEWAY; default http://localhost:8080), --dir DIR (the library; or EVENTSHOP_SCENARIOS; default scenarios/)
    exit code: 0 when every expectation holds, 1 when one does not (or the system lacks what a scenario needs), 2 for bad usage
    """;

var arguments = args.ToList();
string? Option(string name)
{
    var at = arguments.IndexOf(name);
    if (at < 0 || at + 1 >= arguments.Count)
        return null;
    var value = arguments[at + 1];
    arguments.RemoveRange(at, 2);
    return value;
}
bool Flag(string name) => arguments.Remove(name);

var gatewayAddress = new Uri(Option("--gateway") ?? Environment.GetEnvironmentVariable("EVENTSHOP_GATEWAY") ?? "http://localhost:8080");
var directory = Option("--dir") ?? Environment.GetEnvironmentVariable("EVENTSHOP_SCENARIOS") ?? "scenarios";
var parallelism = int.TryParse(Option("--parallel"), out var p) ? p : 4;
var output = Option("--out");
var verbose = Flag("--verbose");
var all = Flag("--all");

if (arguments.Count == 0)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

using var gateway = Gateway.Create(gatewayAddress);
try
{
    switch (arguments[0])
    {
        case "run" when all || arguments.Count > 1:
        {
            var files = all ? ScenarioLibrary.Files(directory) : arguments.Skip(1).Select(a => ScenarioLibrary.Resolve(a, directory)).ToArray();
            var scenarios = files.Select(Scenario.Load).ToArray();
            var runner = new ScenarioRunner(gateway) { Verbose = verbose };
            var results = await ScenarioLibrary.RunAllAsync(runner, scenarios, parallelism, result =>
            {
                if (result.Output != "")
                    Console.WriteLine(result.Output.TrimEnd());
                Console.WriteLine(result.Summary);
                Console.WriteLine();
            });
            var passed = results.Count(r => r.Verdict == Verdict.Passed);
            var failed = results.Where(r => r.Verdict != Verdict.Passed).Select(r => r.Name).Order(StringComparer.Ordinal).ToArray();
            Console.WriteLine($"{passed} of {results.Count} scenarios passed{(failed.Length == 0 ? "" : "; not passed: " + string.Join(", ", failed))}");
            return failed.Length == 0 ? 0 : 1;
        }
        case "export" when arguments.Count == 2 && Guid.TryParse(arguments[1], out var orderId):
        {
            var yaml = await new ScenarioExporter(gateway).ExportAsync(orderId);
            if (output is null)
                Console.Write(yaml);
            else
            {
                await File.WriteAllTextAsync(output, yaml);
                Console.Error.WriteLine($"wrote {output}; run it with: infra/eventshop scenario run {output}");
            }
            return 0;
        }
        default:
            Console.Error.WriteLine(Usage);
            return 2;
    }
}
catch (ScenarioFormatException e)
{
    Console.Error.WriteLine($"scenario: {e.Message}");
    return 2;
}
catch (ScenarioRunException e)
{
    Console.Error.WriteLine($"scenario: {e.Message}");
    return 1;
}
catch (HttpRequestException e)
{
    Console.Error.WriteLine($"scenario: the gateway at {gatewayAddress} did not answer ({e.Message}); is EventShop running (infra/eventshop start)?");
    return 1;
}
