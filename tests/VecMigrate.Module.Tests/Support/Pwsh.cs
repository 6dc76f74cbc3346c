using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;
using VecMigrate.Testing;

namespace VecMigrate.Module.Tests.Support;

/// <summary>
/// The repository's own PowerShell (<see cref="PwshTool"/>), unless <see cref="OverrideVariable"/> names another, for
/// the pwsh-gated tests.
/// </summary>
internal static class Pwsh
{
    /// <summary>
    /// Overrides the search: a path to the pwsh to use, or "none" to run as if there were no pwsh (to see the
    /// pwsh-gated tests report themselves skipped, or fail under CI).
    /// </summary>
    public const string OverrideVariable = "VECMIGRATE_PWSH";

    private static readonly (string FileName, string[] Prefix)? Command;

    /// <summary>Why there is no pwsh, when there is none.</summary>
    public static string MissingReason { get; } = "";

    static Pwsh()
    {
        try
        {
            Command = Find(out var reason);
            MissingReason = reason;
        }
        catch (Exception e) when (e is IOException or JsonException or System.Xml.XmlException or UnauthorizedAccessException)
        {
            MissingReason = $"the PowerShell tool could not be read: {e.Message}";
        }
    }

    public static bool Available => Command is not null;

    /// <summary>
    /// True under CI (the CI variable is "true" or "1"): there a missing pwsh fails the pwsh-gated tests instead
    /// of skipping them, so that no run reports them passed by leaving them out.
    /// </summary>
    public static bool Required => Environment.GetEnvironmentVariable("CI") is { } ci
        && (ci.Equals("true", StringComparison.OrdinalIgnoreCase) || ci == "1");

    /// <summary>Why the pwsh-gated tests are skipped, when they are.</summary>
    public static string SkipReason => $"{MissingReason}; pwsh-gated test skipped";

    /// <summary>Throws, naming why, when there is no pwsh (under CI the pwsh-gated tests run and fail here).</summary>
    public static void Require()
    {
        if (Command is null) throw new InvalidOperationException($"No pwsh: {MissingReason}.");
    }

    private static (string, string[])? Find(out string reason)
    {
        var chosen = Environment.GetEnvironmentVariable(OverrideVariable);
        if (!string.IsNullOrEmpty(chosen))
        {
            reason = $"pwsh hidden or missing ({OverrideVariable}={chosen})";
            return File.Exists(chosen) ? (chosen, []) : null;
        }

        return PwshTool.Find(Repo.Root, out reason);
    }

    /// <summary>Runs a script with -NoProfile -NonInteractive; returns exit code and both streams.</summary>
    public static (int ExitCode, string Output, string Error) Run(string script, TimeSpan timeout)
    {
        Require();
        var (fileName, prefix) = Command!.Value;
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        foreach (var arg in prefix) start.ArgumentList.Add(arg);
        foreach (var arg in new[] { "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", script }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"pwsh did not finish within {timeout}.");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}

/// <summary>
/// A test that needs a real pwsh: reported as skipped, with the reason, where there is none, except under CI
/// (<see cref="Pwsh.Required"/>), where it runs and fails with that reason.
/// </summary>
public sealed class PwshFactAttribute : FactAttribute
{
    public PwshFactAttribute()
    {
        if (!Pwsh.Available && !Pwsh.Required) Skip = Pwsh.SkipReason;
    }
}
