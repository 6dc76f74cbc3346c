using System.Management.Automation;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Commands;

/// <summary>New-PgVectorTarget: describes a Postgres table for Copy-VectorData to write into; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "PgVectorTarget")]
[OutputType(typeof(PgVectorTargetSpec))]
public sealed class NewPgVectorTargetCommand : PgCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgTableCompleter))]
    public string Table { get; set; } = "";

    [Parameter] public PgWriteMode Mode { get; set; } = PgWriteMode.Append;
    [Parameter] public PgVectorType VectorType { get; set; } = PgVectorType.Vector;
    [Parameter] public PgIdType? IdType { get; set; }

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = PgWriteOptions.DefaultBatchSize;

    [Parameter] public PgIndexKind Index { get; set; } = PgIndexKind.None;

    protected override void ProcessRecord() =>
        WriteObject(Create(() => new PgVectorTargetSpec(Connect(), Schema, Table)
        {
            Mode = Mode, VectorType = VectorType, IdType = IdType, BatchSize = BatchSize, Index = Index,
        }));
}
