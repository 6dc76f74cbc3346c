using System.Management.Automation;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Commands;

/// <summary>
/// Measure-VectorDigest: an order-independent digest of the piped records, to compare one side of a migration with
/// the other (Compare-VectorDigest). With -Bucket, only those buckets are measured, each record's hash kept by key, so
/// that a comparison names the records that differ.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "VectorDigest")]
[OutputType(typeof(MeasuredDigest))]
public sealed class MeasureVectorDigestCommand : DigestCmdlet
{
    private VectorDigest? _digest;
    private string? _source;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VectorRecord InputObject { get; set; } = null!;

    [Parameter]
    [ValidateNotNull]
    [ValidateRange(0, VectorDigest.BucketCount - 1)]
    public int[]? Bucket { get; set; }

    protected override void BeginProcessing() => _digest = new VectorDigest(Bucket, DigestParameters());

    protected override void ProcessRecord()
    {
        _source ??= InputObject.Origin?.ToString();
        _digest!.Add(InputObject);
    }

    // An empty input is measured too: an empty target must compare unequal to a full source.
    protected override void EndProcessing() => WriteObject(new MeasuredDigest(_digest!, _source, Bucket));
}
