using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using VecMigrate.Module.Tests.Support;

namespace VecMigrate.Module.Tests.Layout;

/// <summary>What the build leaves in module/bin, which Import-Module ./VecMigrate.psd1 loads.</summary>
public class ModuleLayoutTests
{
    [Fact]
    public void Top_of_module_bin_holds_only_the_loader_and_the_deps_folder()
    {
        var files = Directory.GetFiles(Repo.ModuleBin).Select(Path.GetFileName).Order().ToList();
        var folders = Directory.GetDirectories(Repo.ModuleBin).Select(Path.GetFileName).ToList();
        Assert.Contains("VecMigrate.LoadContext.dll", files);
        Assert.All(files, f => Assert.StartsWith("VecMigrate.LoadContext.", f));
        Assert.Equal(["deps"], folders);
    }

    [Fact]
    public void Deps_holds_the_cmdlets_the_engine_and_their_libraries_but_not_the_loader()
    {
        var deps = Directory.GetFiles(Repo.ModuleDeps).Select(Path.GetFileName).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var expected in new[] { "VecMigrate.dll", "VecMigrate.Engine.dll", "Npgsql.dll", "Microsoft.Extensions.Logging.Abstractions.dll" })
        {
            Assert.Contains(expected, deps);
        }
        Assert.DoesNotContain("VecMigrate.LoadContext.dll", deps);
    }

    [Fact]
    public void No_PowerShell_assembly_is_shipped_anywhere_in_module_bin()
    {
        var shipped = Directory.GetFiles(Repo.ModuleBin, "*.dll", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.DoesNotContain(shipped, f => f!.Equals("System.Management.Automation.dll", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(shipped, f => f!.StartsWith("Microsoft.PowerShell.", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Every_assembly_the_module_references_is_in_deps_or_comes_with_PowerShell()
    {
        var deps = Directory.GetFiles(Repo.ModuleDeps, "*.dll").ToDictionary(f => Path.GetFileNameWithoutExtension(f), StringComparer.OrdinalIgnoreCase);
        var framework = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
            .Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var missing = new List<string>();
        foreach (var (name, path) in deps)
        {
            foreach (var reference in References(path))
            {
                if (deps.ContainsKey(reference) || framework.Contains(reference) || reference == "System.Management.Automation") continue;
                missing.Add($"{name} -> {reference}");
            }
        }
        Assert.True(missing.Count == 0, "Not in module/bin/deps: " + string.Join(", ", missing));
    }

    [Fact]
    public void Module_bin_holds_the_build_these_tests_were_compiled_against()
    {
        // Catches a stale layout: the copy in deps must be the very VecMigrate.dll beside the tests.
        var besideTests = Path.Combine(AppContext.BaseDirectory, "VecMigrate.dll");
        Assert.Equal(Mvid(besideTests), Mvid(Repo.CmdletAssembly));
    }

    private static IEnumerable<string> References(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var reader = pe.GetMetadataReader();
        foreach (var handle in reader.AssemblyReferences)
        {
            yield return reader.GetString(reader.GetAssemblyReference(handle).Name);
        }
    }

    private static Guid Mvid(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var reader = pe.GetMetadataReader();
        return reader.GetGuid(reader.GetModuleDefinition().Mvid);
    }
}
