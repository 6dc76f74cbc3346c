using System.Text.Json;
using System.Xml.Linq;

namespace VecMigrate.Testing;

/// <summary>
/// The repository's own PowerShell: the PowerShell .NET tool pinned in .config/dotnet-tools.json, restored by
/// <c>dotnet tool restore</c> (which .ci/install-deps and the README's test command run) into the NuGet packages
/// folder, and started as <c>dotnet &lt;the tool's entry dll&gt;</c>, as <c>dotnet tool run pwsh</c> would (without
/// that command's own start-up). The module tests and the benchmark find it here.
/// </summary>
public static class PwshTool
{
    /// <summary>
    /// The command that starts the tool (a dotnet executable) and the arguments that come before pwsh's own (its
    /// entry dll); null, with <paramref name="reason"/> saying why, when the manifest names no PowerShell tool or the
    /// tool is not restored.
    /// </summary>
    public static (string FileName, string[] Prefix)? Find(string repoRoot, out string reason)
    {
        var manifest = Path.Combine(repoRoot, ".config", "dotnet-tools.json");
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
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var toolDir = Path.Combine(packages, "powershell", version, "tools");
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
        var dll = Path.Combine(Path.GetDirectoryName(settings)!, entry);
        reason = $"the PowerShell tool's entry point {dll} is missing";
        if (!File.Exists(dll)) return null;
        reason = "";
        // The dotnet that runs this process's tests (the SDK sets DOTNET_HOST_PATH for its children), else the one on PATH.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        return (dotnet, [dll]);
    }
}
