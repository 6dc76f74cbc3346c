using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using VecMigrate.Engine.Http;
using VecMigrate.Hosting;

namespace VecMigrate;

/// <summary>
/// Base of the tab completers for collection, index and table names: a derived completer lists
/// the names for the endpoint the user has typed so far; this class bounds the time it may take,
/// filters and quotes the names, and turns any failure into "no suggestions" (a tab press must
/// never print an error or hang the shell).
/// </summary>
public abstract class NameCompleter : IArgumentCompleter
{
    /// <summary>How long listing may take before the user gets no suggestions instead.</summary>
    protected virtual TimeSpan Timeout => TimeSpan.FromSeconds(5);

    /// <summary>Lists the names that may be offered; filtering and quoting are done here.</summary>
    /// <param name="fakeBoundParameters">The parameters typed so far (read with <see cref="GetBoundString"/>).</param>
    /// <param name="cancellationToken">Cancelled when <see cref="Timeout"/> has passed.</param>
    protected abstract Task<IEnumerable<string>> GetNamesAsync(IDictionary fakeBoundParameters, CancellationToken cancellationToken);

    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IEnumerable<string> names;
        try
        {
            using var timeout = new CancellationTokenSource(Timeout);
            var listing = Task.Run(() => GetNamesAsync(fakeBoundParameters, timeout.Token), timeout.Token);
            if (!listing.Wait(Timeout)) return [];
            names = listing.Result;
        }
        catch (Exception)
        {
            return [];
        }
        return CompletionMatcher.Find(names, wordToComplete)
            .Select(m => new CompletionResult(m.CompletionText, m.ListItemText, CompletionResultType.ParameterValue, m.ListItemText))
            .ToList();
    }

    /// <summary>A parameter's value as typed (e.g. -Url), or null when absent or not a plain value.</summary>
    protected static string? GetBoundString(IDictionary fakeBoundParameters, string parameterName) =>
        Unwrap(fakeBoundParameters?[parameterName]) switch
        {
            string s when s.Length > 0 => s,
            Uri u => u.ToString(),
            _ => null,
        };

    /// <summary>An API key typed as -ApiKey (SecureString, credential or text), else from the environment variable.</summary>
    protected static ApiSecret? GetBoundApiKey(IDictionary fakeBoundParameters, string parameterName, string environmentVariable) =>
        Unwrap(fakeBoundParameters?[parameterName]) switch
        {
            System.Security.SecureString secure => Secrets.FromParameterOrEnvironment(secure, environmentVariable, SecretRedactor.Shared),
            PSCredential credential => Secrets.FromParameterOrEnvironment(credential.Password, environmentVariable, SecretRedactor.Shared),
            string text when text.Length > 0 => Secrets.FromText(text, SecretRedactor.Shared),
            _ => Secrets.FromParameterOrEnvironment(null, environmentVariable, SecretRedactor.Shared),
        };

    private static object? Unwrap(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;
}
