using System.Management.Automation;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Commands;

/// <summary>New-PgVectorSource: describes a Postgres table for Copy-VectorData to read; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "PgVectorSource")]
[OutputType(typeof(PgVectorSourceSpec))]
public sealed class NewPgVectorSourceCommand : PgReadCmdlet
{
    protected override void ProcessRecord() => WriteObject(Create(() => new PgVectorSourceSpec(Connect(), ReadOptions(""))));
}
