using System.Management.Automation;
using VecMigrate.Engine.Files;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>
/// Export-VectorRecord: writes piped records into a Parquet, JSONL or JSONL.gz file, through a partial file beside it
/// that is renamed over the target only once complete. The sink runs on a background task, as Write-QdrantPoint's does.
/// </summary>
[Cmdlet(VerbsData.Export, "VectorRecord", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VectorFileInfo))]
public sealed class ExportVectorRecordCommand : VecMigrateCmdlet
{
    private FileSink? _writer;
    private BackgroundWriter? _sink;
    private ProgressMeter? _progress;
    private bool _declined;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VectorRecord InputObject { get; set; } = null!;

    /// <summary>The file to write; .parquet, .jsonl or .jsonl.gz tells the format.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = FileSinkOptions.DefaultBatchSize;

    /// <summary>Replace the file if it exists (once the new one is complete).</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        if (_declined || (_sink is null && !Start())) return;
        Feed(_sink!, InputObject, _progress!);
    }

    protected override void EndProcessing()
    {
        if (_sink is null) return; // no records, or declined
        Finish(_sink, _progress!);
        WriteObject(_writer!.Info);
    }

    private bool Start()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var writer = _writer = Create(() => new FileSink(new FileSinkOptions(path) { Overwrite = Force, BatchSize = BatchSize }));
        var plan = $"Write records to {writer.FullPath}{(Force && File.Exists(writer.FullPath) ? " (replacing it once complete)" : "")}";
        if (NeedsConfirmation(ConfirmImpact.Medium, force: false))
        {
            _declined = !ShouldProcess(plan, plan + Environment.NewLine + "Continue?", "Export-VectorRecord");
            if (_declined) return false;
        }
        _sink = new BackgroundWriter(writer.WriteAsync, writer.CompleteAsync, writer, BackgroundWriter.DefaultCapacity, StopToken);
        _progress = new ProgressMeter($"Exporting records to {System.IO.Path.GetFileName(writer.FullPath)}");
        return true;
    }

    // Ctrl+C or -ErrorAction Stop: the partial file is deleted and the target left as it was.
    protected override void Dispose(bool disposing)
    {
        if (disposing) (_sink ?? (IAsyncDisposable?)_writer)?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }
}
