namespace VecMigrate.Module.Tests.Support;

/// <summary>VecMigrate.psd1, parsed.</summary>
internal static class Manifest
{
    private static readonly Lazy<Dictionary<string, object?>> Data =
        new(() => PowerShellData.ParseHashtable(File.ReadAllText(Repo.Manifest)));

    public static IReadOnlyDictionary<string, object?> Values => Data.Value;

    public static string String(string key) =>
        Values.TryGetValue(key, out var value) && value is string s ? s : throw new KeyNotFoundException($"The manifest has no string '{key}'.");

    /// <summary>A key's value as a list of strings (a single string counts as a list of one).</summary>
    public static IReadOnlyList<string> Strings(string key) => Values.TryGetValue(key, out var value)
        ? value switch
        {
            string s => [s],
            List<object?> list => list.Select(v => v as string ?? throw new FormatException($"'{key}' holds a non-string.")).ToList(),
            _ => throw new FormatException($"'{key}' is neither a string nor a list."),
        }
        : throw new KeyNotFoundException($"The manifest has no '{key}'.");

    public static IReadOnlyList<string> CmdletsToExport => Strings("CmdletsToExport");
}
