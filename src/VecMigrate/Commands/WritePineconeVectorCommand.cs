using System.Management.Automation;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>
/// Write-PineconeVector: upserts records into an existing Pinecone index, found by name or by its host. The sink runs
/// on a background task fed through a bounded channel, as Write-PgVector's does.
/// </summary>
[Cmdlet(VerbsCommunications.Write, "PineconeVector", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
    DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(PineconeWriteSummary))]
public sealed class WritePineconeVectorCommand : PineconeCmdlet
{
    /// <summary>The index is found by name through the control plane.</summary>
    public const string ByNameSet = "ByName";

    /// <summary>The index's data-plane host is given: the control plane is not asked.</summary>
    public const string ByHostSet = "ByHost";

    private PineconeSink? _writer;
    private BackgroundWriter? _sink;
    private ProgressMeter? _progress;
    private bool _declined;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VectorRecord InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet)]
    [Parameter(ParameterSetName = ByHostSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PineconeIndexCompleter))]
    public string? IndexName { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ByHostSet)]
    [Alias("Host")]
    [ValidateNotNullOrEmpty]
    public string? IndexHost { get; set; }

    /// <summary>The namespace every record goes into ('' for the default one); each record's own when left out.</summary>
    [Parameter]
    [ValidateNotNull]
    [AllowEmptyString]
    public string? Namespace { get; set; }

    [Parameter]
    [AllowEmptyString]
    public string? VectorName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SparseVectorName { get; set; }

    [Parameter]
    [ValidateRange(1, PineconeClient.MaxUpsertVectors)]
    public int BatchSize { get; set; } = PineconeClient.MaxUpsertVectors;

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

    // On the first record: it fixes the vector choice that -WhatIf/-Confirm describe.
    private bool Start(VectorRecord first)
    {
        var name = IndexName ?? IndexHost!;
        var options = new PineconeSinkOptions
        {
            IndexName = name, IndexHost = IndexHost, Namespace = Namespace, VectorName = VectorName,
            SparseVectorName = SparseVectorName, BatchSize = BatchSize,
        };
        var client = OpenClient();
        var writer = _writer = Create(() => new PineconeSink(client, options));
        if (NeedsConfirmation(ConfirmImpact.Medium, force: false))
        {
            var plan = PineconeWritePlanText.Describe(Await(token => writer.PlanAsync(first, token)), options);
            _declined = !ShouldProcess(plan, plan + Environment.NewLine + "Continue?", $"Write-PineconeVector {name}");
            if (_declined) return false;
        }
        _sink = new BackgroundWriter(writer.WriteAsync, writer.CompleteAsync, writer, BackgroundWriter.DefaultCapacity, StopToken);
        _progress = new ProgressMeter($"Writing to Pinecone index '{name}'");
        return true;
    }

    // Ctrl+C or -ErrorAction Stop: stops the writer; the open request is dropped unsent (acknowledged ones stay).
    protected override void Dispose(bool disposing)
    {
        if (disposing) (_sink ?? (IAsyncDisposable?)_writer)?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }
}
