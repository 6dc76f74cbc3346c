using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>Get-PgVector: streams a table's rows as records, in key order (keyset pages, never OFFSET).</summary>
[Cmdlet(VerbsCommon.Get, "PgVector")]
[OutputType(typeof(VectorRecord))]
public sealed class GetPgVectorCommand : PgReadCmdlet
{
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StartAfter { get; set; }

    protected override void ProcessRecord()
    {
        var source = new PgVectorSource(ReadOptions(Connect().RevealConnectionString()).WithStartAfter(StartAfter), LoggerFactory.CreateLogger<PgVectorSource>());
        var progress = new ProgressMeter($"Reading {Schema}.{Table}");
        WriteAll(progress.AfterTotal(source.EstimateCountAsync, source.ReadAsync()), progress);
    }
}
