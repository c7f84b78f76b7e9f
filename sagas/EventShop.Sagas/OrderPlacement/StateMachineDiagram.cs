using System.Text;
using MassTransit;
using MassTransit.SagaStateMachine;

namespace EventShop.Sagas.OrderPlacement;

/// <summary>
/// The state machine as a Mermaid flowchart, drawn from MassTransit's own graph (<c>GetGraph()</c>): states as rounded
/// boxes, events as hexagons, every edge as the graph has it. An event handled in several states is one vertex, as in
/// MassTransit's graph, so the picture shows which events lead where rather than repeating them per state.
/// </summary>
public static class StateMachineDiagram
{
    public static string Mermaid<TSaga>(SagaStateMachine<TSaga> machine) where TSaga : class, SagaStateMachineInstance
    {
        var graph = machine.GetGraph();
        var text = new StringBuilder("flowchart LR\n");
        foreach (var vertex in graph.Vertices)
        {
            var id = Id(vertex);
            text.Append("    ").Append(id).Append(IsState(vertex) ? $"([{vertex.Title}])" : $"{{{{{vertex.Title}}}}}").Append('\n');
        }
        foreach (var edge in graph.Edges)
            text.Append("    ").Append(Id(edge.From)).Append(" --> ").Append(Id(edge.To)).Append('\n');
        return text.ToString();
    }

    /// <summary>The graph's edges as (from, to) titles, states and events alike: the unit the transition coverage counts.</summary>
    public static IReadOnlyList<(string From, string To)> Edges<TSaga>(SagaStateMachine<TSaga> machine) where TSaga : class, SagaStateMachineInstance =>
        [.. machine.GetGraph().Edges.Select(edge => (Name(edge.From), Name(edge.To)))];

    static bool IsState(Vertex vertex) => vertex.VertexType == typeof(State);

    static string Name(Vertex vertex) => IsState(vertex) ? vertex.Title : $"on {vertex.Title}";

    static string Id(Vertex vertex) => (IsState(vertex) ? "state_" : "event_") + vertex.Title;
}
