using VecMigrate.Module.Tests.Support;

namespace VecMigrate.Module.Tests;

/// <summary>The cmdlets compiled into module/bin/deps/VecMigrate.dll against the manifest's list.</summary>
public class CmdletSurfaceTests
{
    [Fact]
    public void Every_compiled_cmdlet_is_declared_in_the_manifest()
    {
        var declared = Manifest.CmdletsToExport.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var undeclared = CmdletSurface.Read(Repo.CmdletAssembly).Select(c => c.Name).Where(n => !declared.Contains(n)).ToList();
        Assert.True(undeclared.Count == 0, $"Compiled but missing from CmdletsToExport in VecMigrate.psd1: {string.Join(", ", undeclared)}");
    }

    /// <summary>Fails, naming them, when a cmdlet the manifest exports is not compiled (never skipped).</summary>
    [Fact]
    public void Every_declared_cmdlet_is_compiled()
    {
        var compiled = CmdletSurface.Read(Repo.CmdletAssembly).Select(c => c.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var missing = Manifest.CmdletsToExport.Where(n => !compiled.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"Declared in VecMigrate.psd1 but not compiled: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_compiled_cmdlet_is_public_has_OutputType_and_an_approved_verb()
    {
        var approved = CmdletSurface.ApprovedVerbs();
        var problems = CmdletSurface.Read(Repo.CmdletAssembly).SelectMany(c => CmdletSurface.Problems(c, approved)).ToList();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Surface_check_finds_cmdlets_and_reports_what_they_lack()
    {
        // Proves the reader and the rules on cmdlets that exist: the fixtures in this assembly.
        var approved = CmdletSurface.ApprovedVerbs();
        var fixtures = CmdletSurface.Read(typeof(CmdletSurfaceTests).Assembly.Location, typeof(Fixtures.GetVmFixtureCmdlet).Namespace)
            .ToDictionary(c => c.Name);

        Assert.Equal(["Get-VmFixture", "Grab-VmFixture"], fixtures.Keys.Order());
        Assert.Empty(CmdletSurface.Problems(fixtures["Get-VmFixture"], approved));
        var problems = CmdletSurface.Problems(fixtures["Grab-VmFixture"], approved);
        Assert.Contains(problems, p => p.Contains("[OutputType]"));
        Assert.Contains(problems, p => p.Contains("'Grab' is not an approved verb"));
        Assert.Contains(problems, p => p.Contains("not public"));
        Assert.Contains("Get", approved);
        Assert.Contains("ConvertTo", approved);
    }
}
