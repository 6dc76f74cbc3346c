using System.Management.Automation;

namespace VecMigrate;

/// <summary>
/// -Name values of the Get- cmdlets: none means every name; a name with wildcards selects among the listed
/// names (silently, as Get-ChildItem does); a plain name is asked for directly, so that a missing one is reported.
/// </summary>
internal static class NamePatterns
{
    /// <summary>The names to describe, in the order asked, each once; Literal when it was asked for by its exact name.</summary>
    public static async Task<IReadOnlyList<(string Name, bool Literal)>> ResolveAsync(
        IReadOnlyList<string>? patterns, Func<Task<IEnumerable<string>>> list)
    {
        IReadOnlyList<string>? listed = null;
        async Task<IReadOnlyList<string>> Listed() => listed ??= (await list().ConfigureAwait(false)).ToList();

        if (patterns is null || patterns.Count == 0) return (await Listed().ConfigureAwait(false)).Select(n => (n, false)).ToList();
        var result = new List<(string, bool)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pattern in patterns)
        {
            if (!WildcardPattern.ContainsWildcardCharacters(pattern))
            {
                if (seen.Add(pattern)) result.Add((pattern, true));
                continue;
            }
            var wildcard = WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
            foreach (var name in await Listed().ConfigureAwait(false))
            {
                if (wildcard.IsMatch(name) && seen.Add(name)) result.Add((name, false));
            }
        }
        return result;
    }

    /// <summary>True when <paramref name="name"/> is selected by <paramref name="patterns"/> (all when none).</summary>
    public static bool Matches(IReadOnlyList<string>? patterns, string name) =>
        patterns is null || patterns.Count == 0
        || patterns.Any(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant).IsMatch(name));
}
