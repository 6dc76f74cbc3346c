using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;

namespace VecMigrate.Commands;

/// <summary>
/// Write-PgVector: writes records into a Postgres table with binary COPY, in committed batches. The writer runs
/// on a background task fed through a bounded channel, so the COPY overlaps the work of the command before it.
/// </summary>
[Cmdlet(VerbsCommunications.Write, "PgVector", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(PgWriteSummary))]
public sealed class WritePgVectorCommand : PgWriteCmdlet
{
    private PgVectorWriter? _writer;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VectorRecord InputObject { get; set; } = null!;

    /// <summary>Keeps this write's progress in the target database's checkpoint table, advanced with each batch.</summary>
    [Parameter, ValidateNotNullOrEmpty, ArgumentCompleter(typeof(PgCheckpointCompleter))]
    public string? Checkpoint { get; set; }

    [Parameter] public SwitchParameter Resume { get; set; }

    /// <summary>Replace empties the table without asking.</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => WriteRecord(InputObject, Start);

    protected override void EndProcessing()
    {
        if (EndWriting()) WriteObject(_writer!.Summary);
    }

    // On the first record: it shows what -WhatIf/-Confirm describe, and names the checkpoint's source.
    private bool Start(VectorRecord first)
    {
        var options = WriteOptions(Connect().RevealConnectionString());
        var writer = _writer = OpenSink(() => new PgVectorWriter(options, LoggerFactory.CreateLogger<PgVectorWriter>()));
        var plan = PgWritePlanText.Describe(Await(token => writer.PlanAsync(first, token)), options, writer.IndexDdl, Checkpoint, Resume);
        if (!ShouldWrite(plan, $"Write-PgVector {Schema}.{Table}", destroys: Mode == PgWriteMode.Replace, Force)) return false;
        StartWriting(first, $"Writing to {Schema}.{Table} ({Mode})", Checkpoint, Resume, finish: writer.CreateIndexesAsync);
        return true;
    }
}
