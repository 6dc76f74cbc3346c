using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>Get-PgVector: streams a table's rows as records, in key order (keyset pages, never OFFSET).</summary>
[Cmdlet(VerbsCommon.Get, "PgVector")]
[OutputType(typeof(VectorRecord))]
public sealed class GetPgVectorCommand : PgCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgTableCompleter))]
    public string Table { get; set; } = "";

    /// <summary>The key column; the primary key when left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyColumn { get; set; }

    /// <summary>Vector columns to read; every pgvector column when left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? VectorColumn { get; set; }

    /// <summary>Columns that make the payload; every other column when left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Column { get; set; }

    /// <summary>An SQL condition on the rows, run as it is: it is your own SQL.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Where { get; set; }

    [Parameter]
    [ValidateRange(1, 100_000)]
    public int PageSize { get; set; } = 1000;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StartAfter { get; set; }

    protected override void ProcessRecord()
    {
        var source = new PgVectorSource(new PgReadOptions
        {
            ConnectionString = Connect().RevealConnectionString(),
            Schema = Schema,
            Table = Table,
            KeyColumn = KeyColumn,
            VectorColumns = VectorColumn,
            Columns = Column,
            Where = Where,
            PageSize = PageSize,
            StartAfter = StartAfter,
        }, LoggerFactory.CreateLogger<PgVectorSource>());
        var progress = new ProgressMeter($"Reading {Schema}.{Table}");
        WriteAll(progress.AfterTotal(source.EstimateCountAsync, source.ReadAsync()), progress);
    }
}
