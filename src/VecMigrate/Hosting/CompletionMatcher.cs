namespace VecMigrate.Hosting;

/// <summary>
/// The PowerShell-free half of tab completion: which names fit what was typed, and how each must
/// be written on the command line.
/// </summary>
internal static class CompletionMatcher
{
    /// <summary>One name to offer: the text to insert and the name itself for the list.</summary>
    public readonly record struct Match(string CompletionText, string ListItemText);

    /// <summary>
    /// The names that start with <paramref name="wordToComplete"/> (case-insensitive; a leading quote
    /// the user typed is ignored), sorted, distinct, each quoted when the shell needs it, in the
    /// quote style the user started with.
    /// </summary>
    public static IReadOnlyList<Match> Find(IEnumerable<string> names, string? wordToComplete)
    {
        ArgumentNullException.ThrowIfNull(names);
        var word = wordToComplete ?? "";
        var quote = word.Length > 0 && word[0] is '\'' or '"' ? word[0] : '\0';
        var prefix = quote == '\0' ? word : word[1..].TrimEnd(quote);

        return names
            .Where(n => !string.IsNullOrEmpty(n) && n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.OrdinalIgnoreCase)
            .Select(n => new Match(Quote(n, quote), n))
            .ToList();
    }

    /// <summary>The name as a single PowerShell argument: bare when safe, else quoted.</summary>
    public static string Quote(string name, char preferredQuote = '\0')
    {
        if (preferredQuote == '"')
        {
            // Inside double quotes, ` " and $ are special; escape each with a backtick.
            return "\"" + name.Replace("`", "``").Replace("\"", "`\"").Replace("$", "`$") + "\"";
        }
        if (preferredQuote == '\'' || NeedsQuotes(name))
        {
            return "'" + name.Replace("'", "''") + "'";
        }
        return name;
    }

    private static bool NeedsQuotes(string name)
    {
        if (name.Length == 0) return true;
        // A leading character that would start something else (a variable, a number's sign, a parameter, an array).
        if (name[0] is '-' or '@' or '#' or '<' or '>' or '[') return true;
        foreach (var c in name)
        {
            if (char.IsWhiteSpace(c)) return true;
            if (c is '\'' or '"' or '`' or '$' or ';' or ',' or '(' or ')' or '{' or '}' or '|' or '&') return true;
            if (c is '\u2018' or '\u2019' or '\u201C' or '\u201D') return true; // PowerShell treats curly quotes as quotes
        }
        return false;
    }
}
