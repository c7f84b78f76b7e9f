using EventShop.Sagas.OrderPlacement;

namespace EventShop.Sagas.Tests;

/// <summary>docs/saga.md shows the state machine as the code defines it: the committed picture is the generated one.</summary>
public sealed class When_the_state_machine_is_drawn
{
    [Fact]
    public async Task Should_match_the_diagram_in_the_docs()
    {
        var harness = new OrderStateMachineHarness();
        var generated = StateMachineDiagram.Mermaid(harness.Machine);
        await harness.DisposeAsync();

        var doc = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "docs", "saga.md"));
        var start = doc.IndexOf("```mermaid\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/saga.md has no ```mermaid block");
        start += "```mermaid\n".Length;
        var committed = doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)];

        Assert.True(committed == generated,
            $"docs/saga.md is out of step with the state machine; replace its mermaid block with:\n{generated}");
    }

    [Fact]
    public async Task Should_draw_every_state_and_event()
    {
        var harness = new OrderStateMachineHarness();
        var generated = StateMachineDiagram.Mermaid(harness.Machine);
        foreach (var state in harness.Machine.States.Where(state => state.Name != "Final"))
            Assert.Contains($"state_{state.Name}([{state.Name}])", generated);
        Assert.Contains("state_Debiting --> event_CustomerDebited", generated);
        Assert.Contains("event_CustomerDebited --> state_Crediting", generated);
        await harness.DisposeAsync();
    }

    static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EventShop.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException("EventShop.sln not found above " + AppContext.BaseDirectory);
    }
}
