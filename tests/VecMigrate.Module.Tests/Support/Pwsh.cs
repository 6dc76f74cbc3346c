using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;

namespace VecMigrate.Module.Tests.Support;

/// <summary>
/// The repository's own PowerShell: the PowerShell .NET tool pinned in .config/dotnet-tools.json, restored by
/// <c>dotnet tool restore</c> (which .ci/install-deps and the README's test command run) into the NuGet packages
/// folder, and started as <c>dotnet &lt;the tool's entry dll&gt;</c>, as <c>dotnet tool run pwsh</c> would (without
/// that command's own start-up, paid once per test otherwise).
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

        var manifest = System.IO.Path.Combine(Repo.Root, ".config", "dotnet-tools.json");
        using var json = JsonDocument.Parse(File.ReadAllText(manifest));
        var tool = json.RootElement.GetProperty("tools").EnumerateObject()
            .FirstOrDefault(t => t.Name.Equals("powershell", StringComparison.OrdinalIgnoreCase));
        if (tool.Value.ValueKind != JsonValueKind.Object)
        {
            reason = $"{manifest} names no PowerShell tool";
            return null;
        }
        var version = tool.Value.GetProperty("version").GetString()!;
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var toolDir = System.IO.Path.Combine(packages, "powershell", version, "tools");
        // tools/<framework>/any/DotnetToolSettings.xml names the entry point, as the SDK reads it.
        var settings = Directory.Exists(toolDir)
            ? Directory.GetFiles(toolDir, "DotnetToolSettings.xml", SearchOption.AllDirectories).OrderDescending(StringComparer.Ordinal).FirstOrDefault()
            : null;
        if (settings is null)
        {
            reason = $"the PowerShell tool {version} is not restored in {packages} (run `dotnet tool restore` in the repository)";
            return null;
        }
        var entry = XDocument.Load(settings).Descendants("Command")
            .First(c => (string?)c.Attribute("Name") == "pwsh").Attribute("EntryPoint")!.Value;
        var dll = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(settings)!, entry);
        reason = $"the PowerShell tool's entry point {dll} is missing";
        if (!File.Exists(dll)) return null;
        reason = "";
        // The dotnet that runs the tests (the SDK sets DOTNET_HOST_PATH for its children), else the one on PATH.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        return (dotnet, [dll]);
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
