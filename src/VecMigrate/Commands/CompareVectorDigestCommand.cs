using System.Management.Automation;
using VecMigrate.Engine;
using VecMigrate.Engine.Pipeline;

namespace VecMigrate.Commands;

/// <summary>Compare-VectorDigest: whether two digests (Measure-VectorDigest) hold the same records, and where they differ.</summary>
[Cmdlet(VerbsData.Compare, "VectorDigest")]
[OutputType(typeof(DigestComparison))]
public sealed class CompareVectorDigestCommand : VecMigrateCmdlet
{
    /// <summary>The source side's digest.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNull]
    public MeasuredDigest Reference { get; set; } = null!;

    /// <summary>The target side's digest.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [ValidateNotNull]
    public MeasuredDigest Difference { get; set; } = null!;

    protected override void ProcessRecord()
    {
        try
        {
            WriteObject(MeasuredDigest.Compare(Reference, Difference));
        }
        catch (VecMigrateException e)
        {
            ThrowTerminatingError(e);
        }
    }
}
