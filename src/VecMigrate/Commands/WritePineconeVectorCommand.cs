using System.Management.Automation;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Records;

namespace VecMigrate.Commands;

/// <summary>
/// Write-PineconeVector: upserts records into an existing Pinecone index, found by name or by its host. The sink runs
/// on a background task fed through a bounded channel, as Write-PgVector's does.
/// </summary>
[Cmdlet(VerbsCommunications.Write, "PineconeVector", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
    DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(PineconeWriteSummary))]
public sealed class WritePineconeVectorCommand : PineconeWriteCmdlet
{
    /// <inheritdoc cref="PineconeWriteCmdlet.ByNameSet"/>
    public new const string ByNameSet = PineconeWriteCmdlet.ByNameSet;

    /// <inheritdoc cref="PineconeWriteCmdlet.ByHostSet"/>
    public new const string ByHostSet = PineconeWriteCmdlet.ByHostSet;

    private PineconeSink? _writer;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VectorRecord InputObject { get; set; } = null!;

    /// <summary>Keeps this write's progress in a checkpoint file, advanced after each acknowledged request.</summary>
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

    // On the first record: it fixes the vector choice that -WhatIf/-Confirm describe.
    private bool Start(VectorRecord first)
    {
        var options = SinkOptions();
        var client = OpenClient();
        var writer = _writer = OpenSink(() => new PineconeSink(client, options));
        var plan = PineconeWritePlanText.Describe(Await(token => writer.PlanAsync(first, token)), options);
        if (!ShouldWrite(plan, $"Write-PineconeVector {options.IndexName}", destroys: false, force: false)) return false;
        StartWriting(first, $"Writing to Pinecone index '{options.IndexName}'", Checkpoint, Resume, CheckpointFiles(StateDirectory));
        return true;
    }
}
