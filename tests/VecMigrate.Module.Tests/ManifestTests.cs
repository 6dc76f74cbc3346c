using System.Xml.Linq;
using VecMigrate.Module.Tests.Support;

namespace VecMigrate.Module.Tests;

public class ManifestTests
{
    [Fact]
    public void Manifest_is_plain_data_with_the_keys_Import_Module_needs()
    {
        foreach (var key in new[] { "RootModule", "ModuleVersion", "GUID", "CompatiblePSEditions", "PowerShellVersion", "FormatsToProcess", "CmdletsToExport", "FunctionsToExport", "AliasesToExport", "VariablesToExport" })
        {
            Assert.True(Manifest.Values.ContainsKey(key), $"VecMigrate.psd1 has no {key}.");
        }
        Assert.True(Guid.TryParse(Manifest.String("GUID"), out _));
    }

    [Fact]
    public void ModuleVersion_is_the_VersionPrefix_of_Directory_Build_props()
    {
        var props = XDocument.Load(Path.Combine(Repo.Root, "Directory.Build.props"));
        var prefix = props.Descendants("VersionPrefix").Single().Value.Trim();
        Assert.Equal(prefix, Manifest.String("ModuleVersion"));
    }

    [Fact]
    public void Manifest_targets_PowerShell_7_4_Core()
    {
        Assert.Equal("7.4", Manifest.String("PowerShellVersion"));
        Assert.Equal(["Core"], Manifest.Strings("CompatiblePSEditions"));
    }

    [Fact]
    public void RootModule_and_FormatsToProcess_name_files_of_the_checkout()
    {
        var root = Manifest.String("RootModule");
        Assert.Equal("module/VecMigrate.psm1", root);
        Assert.True(File.Exists(Path.Combine(Repo.Root, root)));
        var formats = Manifest.Strings("FormatsToProcess");
        Assert.NotEmpty(formats);
        Assert.All(formats, f => Assert.True(File.Exists(Path.Combine(Repo.Root, f)), $"{f} is missing."));
    }

    [Fact]
    public void Manifest_exports_only_cmdlets()
    {
        Assert.Empty(Manifest.Strings("FunctionsToExport"));
        Assert.Empty(Manifest.Strings("AliasesToExport"));
        Assert.Empty(Manifest.Strings("VariablesToExport"));
    }

    [Fact]
    public void Declared_cmdlets_use_approved_verbs_and_the_products_nouns()
    {
        var approved = CmdletSurface.ApprovedVerbs();
        var declared = Manifest.CmdletsToExport;
        Assert.NotEmpty(declared);
        Assert.Equal(declared.Count, declared.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        foreach (var name in declared)
        {
            var dash = name.IndexOf('-');
            Assert.True(dash > 0, $"{name} is not Verb-Noun.");
            Assert.Contains(name[..dash], approved);
            // A product prefix (or the module's own; File for files as a source and target), singular; Copy-VectorData and
            // Test-VectorMigration span the products, and VectorDigest, VectorRecord (Export/Import) and VectorFileInfo are
            // about records of any product.
            Assert.Matches("^((Qdrant|Pinecone|Pg|Milvus|VecMigrate|File)[A-Z][A-Za-z]*[^s]|VectorData|VectorMigration|VectorDigest|VectorRecord|VectorFileInfo)$", name[(dash + 1)..]);
        }
    }

    [Fact]
    public void Parser_rejects_what_a_data_file_may_not_hold()
    {
        // The checks above are only as good as the parser; these would load code or hide a key.
        Assert.Throws<FormatException>(() => PowerShellData.ParseHashtable("@{ A = $env:HOME }"));
        Assert.Throws<FormatException>(() => PowerShellData.ParseHashtable("@{ A = \"$(Get-Date)\" }"));
        Assert.Throws<FormatException>(() => PowerShellData.ParseHashtable("@{ A = '1'\n A = '2' }"));
        var parsed = PowerShellData.ParseHashtable("# ModuleVersion = '9.9'\n@{ <# B = 1 #> ModuleVersion = '0.1.0'; L = @('a'\n 'b', 'c'); T = 'x', 'y' }");
        Assert.Equal("0.1.0", parsed["moduleversion"]);
        Assert.False(parsed.ContainsKey("B"));
        Assert.Equal(["a", "b", "c"], (List<object?>)parsed["L"]!);
        Assert.Equal(["x", "y"], (List<object?>)parsed["T"]!);
    }
}
