using System.Text;

namespace EventShop.Sagas.Replay;

/// <summary>The replay's verdict for a person: one line when it matches, the first divergence side by side when not.</summary>
public static class ReplayReport
{
    const int Column = 60;

    public static string Format(ReplayResult result)
    {
        if (result.Divergence is not { } step)
            return $"Order {result.OrderId}: {result.Replayed} recorded messages replayed, every transition and sent message matches.\n";

        var text = new StringBuilder()
            .Append($"Order {result.OrderId}: replay diverges at message {step.Index} ({step.Event} in {step.FromState}): {step.Difference}\n\n");
        Row(text, "recorded", "replayed");
        Row(text, new string('-', Column - 2), new string('-', Column - 2));
        Row(text, $"message {step.Index}: {step.Event}", $"message {step.Index}: {step.Event}");
        Row(text, $"state {step.RecordedTransition}", $"state {step.ReplayedTransition}");
        var sent = Math.Max(1, Math.Max(step.RecordedSent.Length, step.ReplayedSent.Length));
        for (var i = 0; i < sent; i++)
        {
            Row(text, Sent(step.RecordedSent, i), Sent(step.ReplayedSent, i));
        }
        return text.ToString();
    }

    static string Sent(string[] messages, int i) =>
        i < messages.Length ? $"sent {messages[i]}" : i == 0 ? "sent nothing" : "";

    // Long lines (a message body) wrap within their column, so both sides stay readable.
    static void Row(StringBuilder text, string left, string right)
    {
        var width = Column - 2;
        var lines = Math.Max(1, Math.Max((left.Length + width - 1) / width, (right.Length + width - 1) / width));
        for (var i = 0; i < lines; i++)
        {
            text.Append(Slice(left, i, width).PadRight(Column)).Append("| ").Append(Slice(right, i, width).TrimEnd()).Append('\n');
        }
    }

    static string Slice(string value, int line, int width) =>
        line * width >= value.Length ? "" : value.Substring(line * width, Math.Min(width, value.Length - line * width));
}
