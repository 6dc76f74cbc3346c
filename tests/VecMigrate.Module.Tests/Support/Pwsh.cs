using System.Diagnostics;

namespace VecMigrate.Module.Tests.Support;

/// <summary>A real PowerShell, when this machine has one: on PATH, or built at /opt/pwsh/pwsh.</summary>
internal static class Pwsh
{
    public const string FallbackPath = "/opt/pwsh/pwsh";

    /// <summary>
    /// Overrides the search: a path to the pwsh to use, or "none" to run as if there were no pwsh (to see the
    /// pwsh-gated tests report themselves skipped, as on CI).
    /// </summary>
    public const string OverrideVariable = "VECMIGRATE_PWSH";

    public static string? Path { get; } = Find();

    /// <summary>Why the pwsh-gated tests are skipped, when they are.</summary>
    public static string SkipReason => Environment.GetEnvironmentVariable(OverrideVariable) is { Length: > 0 } value
        ? $"pwsh hidden ({OverrideVariable}={value}); pwsh-gated test skipped"
        : "pwsh not found on PATH or at /opt/pwsh/pwsh; pwsh-gated test skipped";

    private static string? Find()
    {
        var chosen = Environment.GetEnvironmentVariable(OverrideVariable);
        if (!string.IsNullOrEmpty(chosen)) return File.Exists(chosen) ? chosen : null;
        var names = OperatingSystem.IsWindows() ? new[] { "pwsh.exe" } : new[] { "pwsh" };
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in names)
            {
                var candidate = System.IO.Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return File.Exists(FallbackPath) ? FallbackPath : null;
    }

    /// <summary>Runs a script with -NoProfile -NonInteractive; returns exit code and both streams.</summary>
    public static (int ExitCode, string Output, string Error) Run(string script, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Path ?? throw new InvalidOperationException("No pwsh."))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
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

/// <summary>A test that needs a real pwsh: reported as skipped, with the reason, where there is none.</summary>
public sealed class PwshFactAttribute : FactAttribute
{
    public PwshFactAttribute()
    {
        if (Pwsh.Path is null) Skip = Pwsh.SkipReason;
    }
}
