using System.Management.Automation;
using VecMigrate.Engine.Files;
using VecMigrate.Engine.Records;

namespace VecMigrate.Commands;

/// <summary>
/// Export-VectorRecord: writes piped records into a Parquet, JSONL or JSONL.gz file, through a partial file beside it
/// that is renamed over the target only once complete. The records go to the engine's runner on a background task, as
/// every Write- cmdlet's do; Ctrl+C or -ErrorAction Stop deletes the partial file and leaves the target as it was.
/// </summary>
/// <remarks>
/// No -Checkpoint here, unlike the Write- cmdlets: their targets upsert (or refuse a key twice), but a file appends, so
/// records piped again from before the checkpoint would be written twice, and a pipeline cannot show where its input
/// starts. A resumable export is Copy-VectorData into New-FileTarget, which reads the source again from its checkpoint.
/// </remarks>
[Cmdlet(VerbsData.Export, "VectorRecord", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VectorFileInfo))]
public sealed class ExportVectorRecordCommand : FileWriteCmdlet
{
    private FileSink? _writer;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VectorRecord InputObject { get; set; } = null!;

    protected override void ProcessRecord() => WriteRecord(InputObject, Start);

    protected override void EndProcessing()
    {
        if (EndWriting()) WriteObject(_writer!.Info);
    }

    private bool Start(VectorRecord first)
    {
        var path = FilePath();
        var writer = _writer = OpenSink(() => new FileSink(new FileSinkOptions(path) { Overwrite = Force, BatchSize = BatchSize }));
        var plan = $"Write records to {writer.FullPath}{(Force && File.Exists(writer.FullPath) ? " (replacing it once complete)" : "")}";
        if (!ShouldWrite(plan, "Export-VectorRecord", destroys: false, force: false)) return false;
        StartWriting(first, $"Exporting records to {System.IO.Path.GetFileName(writer.FullPath)}", checkpoint: null, resume: false);
        return true;
    }
}
