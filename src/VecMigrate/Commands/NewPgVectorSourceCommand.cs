using System.Management.Automation;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Commands;

/// <summary>New-PgVectorSource: describes a Postgres table for Copy-VectorData to read; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "PgVectorSource")]
[OutputType(typeof(PgVectorSourceSpec))]
public sealed class NewPgVectorSourceCommand : PgCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgTableCompleter))]
    public string Table { get; set; } = "";

    /// <summary>The key column; the primary key when left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyColumn { get; set; }

    /// <summary>An SQL condition on the rows, run as it is: it is your own SQL.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Where { get; set; }

    protected override void ProcessRecord() =>
        WriteObject(Create(() => new PgVectorSourceSpec(Connect(), Schema, Table) { KeyColumn = KeyColumn, Where = Where }));
}
