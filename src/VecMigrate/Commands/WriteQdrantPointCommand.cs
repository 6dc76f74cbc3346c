using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>
/// Write-QdrantPoint: upserts records into a Qdrant collection, creating it from the first record's schema when it
/// is missing. The sink runs on a background task fed through a bounded channel, as Write-PgVector's does.
/// </summary>
[Cmdlet(VerbsCommunications.Write, "QdrantPoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(QdrantWriteSummary))]
public sealed class WriteQdrantPointCommand : QdrantCmdlet
{
    private QdrantSink? _writer;
    private BackgroundWriter? _sink;
    private ProgressMeter? _progress;
    private bool _declined;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VectorRecord InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(QdrantCollectionCompleter))]
    public string Collection { get; set; } = "";

    [Parameter]
    [ValidateSet(nameof(DistanceMetric.Cosine), nameof(DistanceMetric.Euclid), nameof(DistanceMetric.Dot), nameof(DistanceMetric.Manhattan))]
    public DistanceMetric? Distance { get; set; }

    [Parameter]
    [ValidateRange(1, 100_000)]
    public int BatchSize { get; set; } = QdrantSinkOptions.DefaultBatchSize;

    [Parameter]
    [ValidateRange(1024, int.MaxValue)]
    public int MaxRequestBytes { get; set; } = QdrantSinkOptions.DefaultMaxRequestBytes;

    [Parameter] public SwitchParameter NoCreate { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string OriginalIdField { get; set; } = QdrantSinkOptions.DefaultOriginalIdField;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string NamespaceField { get; set; } = QdrantSinkOptions.DefaultNamespaceField;

    /// <summary>Qdrant's gRPC url (port 6334): points are upserted over gRPC, the collection's schema still over REST at -Url.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? GrpcUrl { get; set; }

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

    // On the first record: it shows what -WhatIf/-Confirm describe (the collection to create, or the one there).
    private bool Start(VectorRecord first)
    {
        var options = new QdrantSinkOptions(Collection)
        {
            Distance = Distance, BatchSize = BatchSize, MaxRequestBytes = MaxRequestBytes, CreateCollection = !NoCreate,
            OriginalIdField = OriginalIdField, NamespaceField = NamespaceField,
        };
        var client = OpenClient(GrpcUrl);
        var writer = _writer = Create(() => new QdrantSink(client, options, LoggerFactory.CreateLogger<QdrantSink>()));
        if (NeedsConfirmation(ConfirmImpact.Medium, force: false))
        {
            var plan = QdrantWritePlanText.Describe(Await(token => writer.PlanAsync(first, token)), client.Endpoint, options);
            _declined = !ShouldProcess(plan, plan + Environment.NewLine + "Continue?", $"Write-QdrantPoint {Collection}");
            if (_declined) return false;
        }
        _sink = new BackgroundWriter(writer.WriteAsync, writer.CompleteAsync, writer, BackgroundWriter.DefaultCapacity, StopToken);
        _progress = new ProgressMeter($"Writing to Qdrant collection '{Collection}'");
        return true;
    }

    // Ctrl+C or -ErrorAction Stop: stops the writer; the open batch is dropped unsent (acknowledged batches stay).
    protected override void Dispose(bool disposing)
    {
        if (disposing) (_sink ?? (IAsyncDisposable?)_writer)?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }
}
