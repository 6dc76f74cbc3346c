using System.Management.Automation;
using VecMigrate.Engine.Milvus;
using VecMigrate.Engine.Records;

namespace VecMigrate.Commands;

/// <summary>
/// Write-MilvusEntity: upserts records into a Milvus collection, creating it from the first record's schema unless
/// -NoCreate. The records go to the engine's runner on a background task, as every Write- cmdlet's do.
/// </summary>
[Cmdlet(VerbsCommunications.Write, "MilvusEntity", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(MilvusWriteSummary))]
public sealed class WriteMilvusEntityCommand : MilvusWriteCmdlet
{
    private MilvusSink? _writer;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VectorRecord InputObject { get; set; } = null!;

    /// <summary>Keeps this write's progress in a checkpoint file, advanced after each acknowledged batch.</summary>
    [Parameter, ValidateNotNullOrEmpty, ArgumentCompleter(typeof(PgCheckpointCompleter))]
    public string? Checkpoint { get; set; }

    [Parameter] public SwitchParameter Resume { get; set; }

    /// <summary>The folder of checkpoint files (as Copy-VectorData's); $env:VECMIGRATE_STATE_DIR or the local default when left out.</summary>
    [Parameter, ValidateNotNullOrEmpty] public string? StateDirectory { get; set; }

    protected override void ProcessRecord() => WriteRecord(InputObject, Start);

    protected override void EndProcessing()
    {
        if (EndWriting()) WriteObject(_writer!.Summary);
    }

    private bool Start(VectorRecord first)
    {
        if (!ShouldWrite($"Upsert records into Milvus collection '{Collection}' at {Url}", $"Write-MilvusEntity {Collection}", destroys: false, force: false))
            return false;
        var client = OpenClient();
        var options = new MilvusSinkOptions(Collection)
        {
            BatchSize = BatchSize, PartitionKey = PartitionKey, ShardsNum = ShardsNum == 0 ? null : ShardsNum, CreateCollection = !NoCreate,
            Rename = Renames(), NoDynamicField = NoDynamicField,
        };
        _writer = OpenSink(() => new MilvusSink(client, options));
        StartWriting(first, $"Writing to Milvus collection '{Collection}'", Checkpoint, Resume, CheckpointFiles(StateDirectory));
        return true;
    }
}
