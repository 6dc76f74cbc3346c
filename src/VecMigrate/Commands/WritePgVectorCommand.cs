using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>
/// Write-PgVector: writes records into a Postgres table with binary COPY, in committed batches. The writer runs
/// on a background task fed through a bounded channel, so the COPY overlaps the work of the command before it.
/// </summary>
[Cmdlet(VerbsCommunications.Write, "PgVector", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(PgWriteSummary))]
public sealed class WritePgVectorCommand : PgCmdlet
{
    private string _connectionString = "";
    private PgVectorWriter? _writer;
    private BackgroundWriter? _sink;
    private ProgressMeter? _progress;
    private bool _declined;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VectorRecord InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgTableCompleter))]
    public string Table { get; set; } = "";

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = PgWriteOptions.DefaultBatchSize;

    [Parameter] public PgWriteMode Mode { get; set; } = PgWriteMode.Append;
    [Parameter] public PgVectorType VectorType { get; set; } = PgVectorType.Vector;
    [Parameter] public PgIdType? IdType { get; set; }

    [Parameter]
    [ValidateRange(1, PgVectorCodec.SparseVecMaxDim)]
    public int? SparseDimension { get; set; }

    [Parameter] public PgIndexKind Index { get; set; } = PgIndexKind.None;
    [Parameter] public DistanceMetric? IndexMetric { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgCheckpointCompleter))]
    public string? Checkpoint { get; set; }

    [Parameter] public SwitchParameter Resume { get; set; }
    [Parameter] public SwitchParameter Force { get; set; }

    protected override void BeginProcessing() => _connectionString = Connect().RevealConnectionString();

    protected override void ProcessRecord()
    {
        if (_declined || (_sink is null && !Start(InputObject))) return;
        Feed(_sink!, InputObject, _progress!);
    }

    protected override void EndProcessing()
    {
        if (_sink is null) return; // no records, or declined
        Finish(_sink, _progress!);
        WriteObject(_writer!.Summary);
    }

    // On the first record: its origin names the checkpoint's source, and it shows what -WhatIf/-Confirm describe.
    private bool Start(VectorRecord first)
    {
        var options = new PgWriteOptions
        {
            ConnectionString = _connectionString, Schema = Schema, Table = Table, BatchSize = BatchSize, Mode = Mode,
            VectorType = VectorType, IdType = IdType, SparseDimension = SparseDimension, Index = Index, IndexMetric = IndexMetric,
            Checkpoint = Checkpoint is null ? null : new PgCheckpoint(Checkpoint, first.Origin?.ToString() ?? "objects"),
            Resume = Resume,
        };
        var writer = _writer = Create(() => new PgVectorWriter(options, LoggerFactory.CreateLogger<PgVectorWriter>()));
        if (NeedsConfirmation(Mode == PgWriteMode.Replace ? ConfirmImpact.High : ConfirmImpact.Medium, Force))
        {
            var plan = PgWritePlanText.Describe(Await(token => writer.PlanAsync(first, token)), options, writer.IndexDdl);
            _declined = !ShouldProcess(plan, plan + Environment.NewLine + "Continue?", $"Write-PgVector {Schema}.{Table}");
            if (_declined) return false;
        }
        _sink = new BackgroundWriter(writer.WriteAsync, async token =>
        {
            await writer.CompleteAsync(token).ConfigureAwait(false);
            await writer.CreateIndexesAsync(token).ConfigureAwait(false);
        }, writer, BackgroundWriter.DefaultCapacity, StopToken);
        _progress = new ProgressMeter($"Writing to {Schema}.{Table} ({Mode})");
        return true;
    }

    // Ctrl+C or -ErrorAction Stop: stops the writer, which rolls back its open batch (committed batches stay).
    protected override void Dispose(bool disposing)
    {
        if (disposing) (_sink ?? (IAsyncDisposable?)_writer)?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }
}
