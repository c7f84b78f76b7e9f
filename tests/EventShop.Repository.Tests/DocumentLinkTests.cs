using System.Text.RegularExpressions;
using EventShop.Testing;

namespace EventShop.Repository.Tests;

/// <summary>The documents travel with the repository: a relative link must reach a file inside it, never one beside it.</summary>
public sealed partial class DocumentLinkTests
{
    [Fact]
    public void Every_relative_link_in_the_documents_points_to_a_file_in_the_repository()
    {
        var root = RepositoryLayout.Root;
        var broken = new List<string>();
        foreach (var document in Directory.EnumerateFiles(root, "*.md", SearchOption.AllDirectories).Where(IsSource))
        {
            foreach (Match link in RelativeLink().Matches(File.ReadAllText(document)))
            {
                var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(document)!, link.Groups["target"].Value));
                var inside = target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
                if (!inside || !(File.Exists(target) || Directory.Exists(target)))
                    broken.Add($"{Path.GetRelativePath(root, document)} -> {link.Groups["target"].Value}");
            }
        }

        Assert.Empty(broken);

        static bool IsSource(string path) =>
            !path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or ".git" or ".run" or "results" or "node_modules");
    }

    /// <summary>A markdown link whose target has no scheme and is not an anchor; the anchor and title are dropped.</summary>
    [GeneratedRegex(@"\]\((?<target>(?![a-z][a-z0-9+.-]*:)[^)#\s]+)(#[^)\s]*)?(\s+""[^""]*"")?\)")]
    private static partial Regex RelativeLink();
}
