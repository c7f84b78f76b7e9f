using System.Globalization;
using System.Text;

namespace EventShop.LoadTests;

/// <summary>
/// Latency over time as a plain SVG, one panel per phase: every order as a dot (client submit-to-terminal, by scheduled start),
/// with per-second p50 and p99 lines. Log-scale y axis, because latencies range from milliseconds to seconds under overload.
/// </summary>
public static class LatencyPlot
{
    const int Width = 960;
    const int PanelHeight = 280;
    const int Left = 60, Right = 20, Top = 30, Bottom = 40;
    const double MinMs = 1, MaxMs = 100_000;
    const int MaxDots = 4_000;

    public static string Render(IReadOnlyList<(string Title, IReadOnlyList<OrderSample> Samples)> phases)
    {
        var svg = new StringBuilder();
        var height = Math.Max(1, phases.Count) * PanelHeight;
        Append(svg, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" viewBox="0 0 {Width} {height}" font-family="sans-serif" font-size="11">""");
        Append(svg, $"""<rect width="{Width}" height="{height}" fill="white"/>""");
        for (var i = 0; i < phases.Count; i++)
            Panel(svg, phases[i].Title, phases[i].Samples, i * PanelHeight);
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    static void Panel(StringBuilder svg, string title, IReadOnlyList<OrderSample> samples, int offsetY)
    {
        var settled = samples.Where(s => s.ClientLatencyMs is not null).ToList();
        var seconds = Math.Max(1, Math.Ceiling(samples.Count == 0 ? 1 : samples.Max(s => s.IntendedStartMs) / 1000));
        var plotWidth = Width - Left - Right;
        var plotHeight = PanelHeight - Top - Bottom;
        double X(double ms) => Left + ms / 1000 / seconds * plotWidth;
        double Y(double ms) => offsetY + Top + plotHeight * (1 - (Math.Log10(Math.Clamp(ms, MinMs, MaxMs)) - Math.Log10(MinMs)) / (Math.Log10(MaxMs) - Math.Log10(MinMs)));

        Append(svg, $"""<text x="{Left}" y="{offsetY + 18}" font-size="13" font-weight="bold">{Escape(title)}</text>""");
        Append(svg, $"""<text x="{Width - Right}" y="{offsetY + 18}" text-anchor="end"><tspan fill="#999">&#9679; order</tspan>  <tspan fill="#1f77b4">&#8212; p50/s</tspan>  <tspan fill="#d62728">&#8212; p99/s</tspan></text>""");
        for (var ms = MinMs; ms <= MaxMs; ms *= 10)
        {
            Append(svg, $"""<line x1="{Left}" x2="{Width - Right}" y1="{Y(ms):0.0}" y2="{Y(ms):0.0}" stroke="#ddd"/>""");
            Append(svg, $"""<text x="{Left - 6}" y="{Y(ms) + 4:0.0}" text-anchor="end">{(ms >= 1000 ? $"{ms / 1000:0} s" : $"{ms:0} ms")}</text>""");
        }

        var step = Math.Max(1, (int)Math.Ceiling(seconds / 12));
        for (var s = 0; s <= seconds; s += step)
            Append(svg, $"""<text x="{X(s * 1000):0.0}" y="{offsetY + PanelHeight - Bottom + 16}" text-anchor="middle">{s} s</text>""");
        Append(svg, $"""<text x="{Left + plotWidth / 2}" y="{offsetY + PanelHeight - 6}" text-anchor="middle" fill="#555">scheduled submit time (client submit-to-terminal latency, log scale)</text>""");
        Append(svg, $"""<rect x="{Left}" y="{offsetY + Top}" width="{plotWidth}" height="{plotHeight}" fill="none" stroke="#888"/>""");

        var every = Math.Max(1, settled.Count / MaxDots);
        for (var i = 0; i < settled.Count; i += every)
            Append(svg, $"""<circle cx="{X(settled[i].IntendedStartMs):0.0}" cy="{Y(settled[i].ClientLatencyMs!.Value):0.0}" r="1.3" fill="#999" fill-opacity="0.5"/>""");

        var perSecond = settled.GroupBy(s => (int)(s.IntendedStartMs / 1000)).OrderBy(g => g.Key)
            .Select(g => (Second: g.Key, Sorted: g.Select(s => s.ClientLatencyMs!.Value).Order().ToList())).ToList();
        foreach (var (percentile, colour) in new[] { (50.0, "#1f77b4"), (99.0, "#d62728") })
        {
            var points = string.Join(" ", perSecond.Select(p =>
                string.Create(CultureInfo.InvariantCulture, $"{X(p.Second * 1000 + 500):0.0},{Y(Stats.Percentile(p.Sorted, percentile)):0.0}")));
            if (points.Length > 0)
                Append(svg, $"""<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.8"/>""");
        }
    }

    static void Append(StringBuilder svg, FormattableString text) => svg.AppendLine(text.ToString(CultureInfo.InvariantCulture));

    static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
