using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;

namespace VecMigrate.Commands;

/// <summary>
/// Write-QdrantPoint: upserts records into a Qdrant collection, creating it from the first record's schema when it
/// is missing. The sink runs on a background task fed through a bounded channel, as Write-PgVector's does.
/// </summary>
[Cmdlet(VerbsCommunications.Write, "QdrantPoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(QdrantWriteSummary))]
public sealed class WriteQdrantPointCommand : QdrantWriteCmdlet
{
    private QdrantSink? _writer;

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

    // On the first record: it shows what -WhatIf/-Confirm describe (the collection to create, or the one there).
    private bool Start(VectorRecord first)
    {
        var options = SinkOptions();
        var client = OpenClient(GrpcUrl);
        var writer = _writer = OpenSink(() => new QdrantSink(client, options, LoggerFactory.CreateLogger<QdrantSink>()));
        var plan = QdrantWritePlanText.Describe(Await(token => writer.PlanAsync(first, token)), client.Endpoint, options);
        if (!ShouldWrite(plan, $"Write-QdrantPoint {Collection}", destroys: false, force: false)) return false;
        StartWriting(first, $"Writing to Qdrant collection '{Collection}'", Checkpoint, Resume, CheckpointFiles(StateDirectory));
        return true;
    }
}
