using VecMigrate.Module.Tests.Support;

namespace VecMigrate.Module.Tests;

/// <summary>
/// Each reading or writing cmdlet and its twin that describes the same read or write for Copy-VectorData take the
/// same parameters, with the same types, aliases, validation and sets, read from the compiled cmdlets' metadata.
/// </summary>
public class CmdletTwinsTests
{
    /// <summary>What only the pipeline cmdlet has: where the read starts, the piped input, its checkpoint, and -Force.</summary>
    private static readonly string[] PipelineOnly = ["StartAfter", "InputObject", "Checkpoint", "Resume", "StateDirectory", "Force", "WhatIf", "Confirm"];

    public static TheoryData<string, string> Twins => new()
    {
        { "Get-QdrantPoint", "New-QdrantSource" },
        { "Get-PineconeVector", "New-PineconeSource" },
        { "Get-PgVector", "New-PgVectorSource" },
        { "Write-QdrantPoint", "New-QdrantTarget" },
        { "Write-PineconeVector", "New-PineconeTarget" },
        { "Write-PgVector", "New-PgVectorTarget" },
        { "Get-MilvusEntity", "New-MilvusSource" },
        { "Write-MilvusEntity", "New-MilvusTarget" },
        { "Import-VectorRecord", "New-FileSource" },
        { "Export-VectorRecord", "New-FileTarget" },
    };

    /// <summary>The cmdlets that take records from the pipeline and write them, each through the engine's one runner.</summary>
    public static TheoryData<string> Writers => new() { "Write-QdrantPoint", "Write-PineconeVector", "Write-PgVector", "Write-MilvusEntity" };

    private static readonly Dictionary<string, CompiledCmdlet> Cmdlets = CmdletSurface.Read(Repo.CmdletAssembly).ToDictionary(c => c.Name);

    [Theory]
    [MemberData(nameof(Twins))]
    public void A_twin_takes_what_its_pipeline_cmdlet_takes(string pipeline, string twin)
    {
        Assert.Equal(Shape(Cmdlets[pipeline]), Shape(Cmdlets[twin]));
    }

    /// <summary>
    /// The piped records and the checkpoint parameters are declared in each writer (a cmdlet has one base class, and
    /// that is its system's target parameters, shared with its New-*Target twin): this holds them to one shape.
    /// Write-PgVector keeps its checkpoint in the target database, so it alone has no -StateDirectory.
    /// </summary>
    [Theory]
    [MemberData(nameof(Writers))]
    public void Every_writer_takes_records_and_checkpoints_alike(string writer)
    {
        string[] common = ["InputObject", "Checkpoint", "Resume", "StateDirectory"];
        var reference = Cmdlets["Write-QdrantPoint"];
        var cmdlet = Cmdlets[writer];
        var expected = Describe(reference.Parameters.Where(p => common.Contains(p.Name)));
        var actual = Describe(cmdlet.Parameters.Where(p => common.Contains(p.Name)));
        if (writer == "Write-PgVector") expected.RemoveAll(line => line.StartsWith("StateDirectory:", StringComparison.Ordinal));
        Assert.Equal(string.Join("\n", expected), string.Join("\n", actual));
    }

    [Fact]
    public void No_metric_parameter_takes_Unknown()
    {
        var metrics = Cmdlets.Values.SelectMany(c => c.Parameters.Where(p => p.TypeName.Contains("DistanceMetric", StringComparison.Ordinal)).Select(p => (c.Name, p))).ToList();
        Assert.NotEmpty(metrics);
        Assert.All(metrics, m => Assert.Contains("ValidateDistanceMetricAttribute", m.p.Attributes));
    }

    /// <summary>Every parameter but the pipeline's own, as name, type, aliases, attributes and sets: what drifts shows in the diff.</summary>
    private static List<string> Shape(CompiledCmdlet cmdlet) => Describe(cmdlet.Parameters.Where(p => !PipelineOnly.Contains(p.Name)));

    private static List<string> Describe(IEnumerable<CompiledParameter> parameters) => parameters
        .Select(p => $"{p.Name}: {p.TypeName} aliases [{string.Join(",", p.Aliases.Order())}] attributes [{string.Join(",", p.Attributes.Order())}] " +
            $"sets [{string.Join(",", p.Sets.Select(s => $"{s.Name} mandatory={s.Mandatory} position={s.Position} byname={s.FromPipelineByPropertyName}").Order())}]")
        .Order()
        .ToList();
}
