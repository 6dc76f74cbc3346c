using System.Xml.Linq;
using VecMigrate.Module.Tests.Support;

namespace VecMigrate.Module.Tests;

/// <summary>Imports the built module into a real PowerShell, where one exists.</summary>
public class PwshImportTests
{
    [PwshFact]
    public void Module_imports_from_the_checkout_with_the_compiled_cmdlets_in_its_own_load_context()
    {
        var manifest = Repo.Manifest.Replace("'", "''");
        var script = $$"""
            $ErrorActionPreference = 'Stop'
            $null = Test-ModuleManifest -Path '{{manifest}}'
            $module = Import-Module -Name '{{manifest}}' -PassThru
            "VERSION=$($module.Version)"
            Get-Command -Module VecMigrate | ForEach-Object { "COMMAND=$($_.Name)" }
            $context = [System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -eq 'VecMigrate'
            $context.Assemblies | ForEach-Object { "ISOLATED=$($_.GetName().Name)" }
            # A second, forced import must export the same commands (PowerShell can lose the
            # cmdlets of an assembly it has cached when a script module re-imports it).
            Import-Module -Name '{{manifest}}' -Force
            Get-Command -Module VecMigrate | ForEach-Object { "REIMPORTED=$($_.Name)" }
            """;
        var (exitCode, output, error) = Pwsh.Run(script, TimeSpan.FromMinutes(2));
        Assert.True(exitCode == 0, $"pwsh exited with {exitCode}: {error}");

        var lines = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string[] Values(string prefix) => lines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Select(l => l[prefix.Length..]).ToArray();

        var version = XDocument.Load(Path.Combine(Repo.Root, "Directory.Build.props")).Descendants("VersionPrefix").Single().Value.Trim();
        Assert.Equal([version], Values("VERSION="));
        var compiled = CmdletSurface.Read(Repo.CmdletAssembly).Select(c => c.Name).Order(StringComparer.OrdinalIgnoreCase);
        Assert.Equal(compiled, Values("COMMAND=").Order(StringComparer.OrdinalIgnoreCase));
        Assert.Equal(compiled, Values("REIMPORTED=").Order(StringComparer.OrdinalIgnoreCase));
        Assert.Contains("VecMigrate", Values("ISOLATED="));
    }
}
