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
    };

    private static readonly Dictionary<string, CompiledCmdlet> Cmdlets = CmdletSurface.Read(Repo.CmdletAssembly).ToDictionary(c => c.Name);

    [Theory]
    [MemberData(nameof(Twins))]
    public void A_twin_takes_what_its_pipeline_cmdlet_takes(string pipeline, string twin)
    {
        Assert.Equal(Shape(Cmdlets[pipeline]), Shape(Cmdlets[twin]));
    }

    [Fact]
    public void No_metric_parameter_takes_Unknown()
    {
        var metrics = Cmdlets.Values.SelectMany(c => c.Parameters.Where(p => p.TypeName.Contains("DistanceMetric", StringComparison.Ordinal)).Select(p => (c.Name, p))).ToList();
        Assert.NotEmpty(metrics);
        Assert.All(metrics, m => Assert.Contains("ValidateDistanceMetricAttribute", m.p.Attributes));
    }

    /// <summary>Every parameter but the pipeline's own, as name, type, aliases, attributes and sets: what drifts shows in the diff.</summary>
    private static List<string> Shape(CompiledCmdlet cmdlet) => cmdlet.Parameters
        .Where(p => !PipelineOnly.Contains(p.Name))
        .Select(p => $"{p.Name}: {p.TypeName} aliases [{string.Join(",", p.Aliases.Order())}] attributes [{string.Join(",", p.Attributes.Order())}] " +
            $"sets [{string.Join(",", p.Sets.Select(s => $"{s.Name} mandatory={s.Mandatory} position={s.Position} byname={s.FromPipelineByPropertyName}").Order())}]")
        .Order()
        .ToList();
}
