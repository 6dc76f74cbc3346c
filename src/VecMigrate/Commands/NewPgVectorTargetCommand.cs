using System.Management.Automation;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Commands;

/// <summary>New-PgVectorTarget: describes a Postgres table for Copy-VectorData to write into; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "PgVectorTarget")]
[OutputType(typeof(PgVectorTargetSpec))]
public sealed class NewPgVectorTargetCommand : PgWriteCmdlet
{
    protected override void ProcessRecord() => WriteObject(Create(() => new PgVectorTargetSpec(Connect(), WriteOptions(""))));
}
