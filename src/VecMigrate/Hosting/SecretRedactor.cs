using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using VecMigrate.Engine;

namespace VecMigrate.Hosting;

/// <summary>
/// The last line of defence between a secret and the screen, a transcript or an Azure Automation
/// job log. The engine already keeps secrets out of its messages; this removes what slips through
/// anyway: the exact text of every key and password this session handed to the engine, and
/// anything shaped like a credential (<c>Password=…</c>, <c>api-key: …</c>, a bearer token, the
/// password in <c>scheme://user:password@host</c>).
/// </summary>
internal sealed partial class SecretRedactor
{
    public const string Mask = "***";

    // Shorter secrets are too likely to match ordinary text to be replaced verbatim; the patterns
    // below still catch them where they appear as a credential.
    private const int MinimumLiteralLength = 4;

    /// <summary>The process-wide instance: a secret given to one command is hidden from all.</summary>
    public static SecretRedactor Shared { get; } = new();

    private readonly ConcurrentDictionary<string, byte> _secrets = new(StringComparer.Ordinal);

    /// <summary>Remembers a secret so that its text is masked wherever it appears later.</summary>
    public void Register(string? secret)
    {
        if (secret is { Length: >= MinimumLiteralLength }) _secrets.TryAdd(secret, 0);
    }

    /// <summary>The text with every registered secret and credential-shaped value masked.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public string? Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text;
        foreach (var secret in _secrets.Keys)
        {
            if (text.Contains(secret, StringComparison.Ordinal)) text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }
        text = KeyValueSecret().Replace(text, m => m.Groups["key"].Value + m.Groups["sep"].Value + Mask);
        text = AuthorizationHeader().Replace(text, m => m.Groups["head"].Value + Mask);
        text = UriPassword().Replace(text, m => m.Groups["head"].Value + ":" + Mask + "@");
        return text;
    }

    /// <summary>
    /// The exception itself when no message in its chain needs masking (type, stack trace and all
    /// kept); otherwise a copy of the chain with masked messages, keeping the engine's failure
    /// kind, id and target so that error records and scripts see the same classification.
    /// </summary>
    public Exception Redact(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return NeedsRedaction(exception) ? Copy(exception) : exception;
    }

    private bool NeedsRedaction(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (!string.Equals(Redact(e.Message), e.Message, StringComparison.Ordinal)) return true;
            if (e is VecMigrateException vm && !string.Equals(Redact(vm.Target), vm.Target, StringComparison.Ordinal)) return true;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    if (NeedsRedaction(inner)) return true;
                }
            }
        }
        return false;
    }

    private Exception Copy(Exception exception)
    {
        var inner = exception.InnerException is null ? null : Copy(exception.InnerException);
        var message = Redact(exception.Message);
        return exception switch
        {
            RecordRejectedException rejected => new RecordRejectedException(rejected.ErrorId, message, rejected.Record, inner),
            VecMigrateException vm => new VecMigrateException(vm.Kind, vm.ErrorId, message, Redact(vm.Target), inner),
            AggregateException aggregate => new AggregateException(message, aggregate.InnerExceptions.Select(Copy)),
            _ => new RedactedException(exception.GetType().FullName ?? exception.GetType().Name, message, inner),
        };
    }

    // key=value and key: value for names that mean a credential; the value runs to ; , & or space,
    // or is a quoted string. After a colon, a word of letters only is prose ("No API key: give -ApiKey"), not a
    // secret: a key or password in a header is not one plain word, and every secret handed over is masked exactly.
    [GeneratedRegex(@"(?<key>\b(?:password|passwd|pwd|api[-_ ]?key|apikey|access[-_ ]?token|token|secret|client[-_ ]?secret)\b)(?:(?<sep>\s*=\s*)|(?<sep>\s*:\s*)(?![A-Za-z]+(?:[\s;,&.]|$)))(?:""[^""]*""|'[^']*'|[^\s;,&]+)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeyValueSecret();

    [GeneratedRegex(@"(?<head>\bauthorization\s*[:=]\s*(?:bearer\s+|basic\s+)?)\S+",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AuthorizationHeader();

    [GeneratedRegex(@"(?<head>\b[a-z][a-z0-9+.\-]*://[^\s:/@]+):[^\s/@]+@",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UriPassword();
}

/// <summary>
/// Stands in for an exception whose message had to be masked; names the original type, since a
/// new exception of an arbitrary type cannot be made.
/// </summary>
public sealed class RedactedException : Exception
{
    public RedactedException(string originalType, string message, Exception? inner)
        : base(message, inner)
    {
        OriginalType = originalType;
    }

    /// <summary>The full name of the exception type that was replaced.</summary>
    public string OriginalType { get; }
}
