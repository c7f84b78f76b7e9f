using System.Reflection;
using EventShop.Sagas.OrderPlacement;
using Xunit.Abstractions;

namespace EventShop.Sagas.Tests;

/// <summary>
/// Every edge of the state machine's graph is walked by some test of this project. The test runs the project's other
/// saga tests itself (so the answer does not depend on which tests ran before, or on a filter), then compares the
/// edges they walked with <c>GetGraph()</c>'s. A new transition without a test fails here, naming it.
/// </summary>
public sealed class When_the_tests_walk_the_state_machine(ITestOutputHelper output)
{
    [Fact]
    public async Task Should_cover_every_transition_of_the_graph()
    {
        // Four at a time: each test has its own in-memory harness, and a loaded machine must not push them past its timeouts.
        var tests = SagaTests().ToArray();
        using var slots = new SemaphoreSlim(4);
        await Task.WhenAll(tests.Select(async test =>
        {
            await slots.WaitAsync();
            try
            {
                await RunAsync(test.Type, test.Method, test.Arguments);
            }
            finally
            {
                slots.Release();
            }
        }));

        var harness = new OrderStateMachineHarness();
        var graph = StateMachineDiagram.Edges(harness.Machine);
        await harness.DisposeAsync();
        var walked = TransitionCoverage.Edges.ToHashSet();
        foreach (var edge in graph)
            output.WriteLine($"{(walked.Contains(edge) ? "covered  " : "UNCOVERED")} {edge.From} -> {edge.To}");

        var missing = graph.Where(edge => !walked.Contains(edge)).Select(edge => $"{edge.From} -> {edge.To}").ToArray();
        Assert.True(tests.Length > 20, $"only {tests.Length} saga tests found to run");
        Assert.True(missing.Length == 0, $"no test walks these edges of the saga's graph: {string.Join("; ", missing)}");
    }

    // Tests of the tooling around the state machine, not of its transitions: replay runs machines of its own.
    static readonly Type[] NotSagaTests = [typeof(When_the_tests_walk_the_state_machine), typeof(When_a_recording_is_replayed), typeof(When_the_state_machine_is_drawn)];

    /// <summary>The facts and inline-data theories of the state machine tests (the When_* classes), the tooling's excepted.</summary>
    static IEnumerable<(Type Type, MethodInfo Method, object?[] Arguments)> SagaTests()
    {
        foreach (var type in typeof(When_the_tests_walk_the_state_machine).Assembly.GetTypes()
                     .Where(type => type.IsPublic && type.Name.StartsWith("When_", StringComparison.Ordinal) && !NotSagaTests.Contains(type))
                     .OrderBy(type => type.Name))
        {
            foreach (var method in type.GetMethods().OrderBy(method => method.Name))
            {
                if (method.GetCustomAttribute<FactAttribute>() is not { Skip: null } fact)
                    continue;
                if (fact is TheoryAttribute)
                {
                    foreach (var data in method.GetCustomAttributes<InlineDataAttribute>())
                        yield return (type, method, data.GetData(method).Single());
                }
                else
                {
                    yield return (type, method, []);
                }
            }
        }
    }

    static async Task RunAsync(Type type, MethodInfo method, object?[] arguments)
    {
        var test = Activator.CreateInstance(type)!;
        var lifetime = test as IAsyncLifetime;
        if (lifetime is not null)
            await lifetime.InitializeAsync();
        try
        {
            if (method.Invoke(test, arguments) is Task task)
                await task;
        }
        finally
        {
            if (lifetime is not null)
                await lifetime.DisposeAsync();
        }
    }
}
