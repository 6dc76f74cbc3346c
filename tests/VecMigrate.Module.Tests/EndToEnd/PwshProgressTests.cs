using Npgsql;
using VecMigrate.Engine.Postgres;
using VecMigrate.Module.Tests.Support;

namespace VecMigrate.Module.Tests.EndToEnd;

/// <summary>
/// Progress in a real pwsh: where the source can tell how many records there are, the bar shows percent and time
/// left from the first update on; where it cannot (a filter), records and rate only. The progress records are read
/// from a nested PowerShell's progress stream (pwsh cannot redirect its own).
/// </summary>
[Collection(ModuleServicesCollection.Name)]
public sealed class PwshProgressTests(ModuleServices services)
{
    /// <summary>pwsh code that runs <c>$command</c> (with $qurl, $qkey, $purl, $pkey, $pg as arguments) and prints its progress records.</summary>
    private const string Capture = """
        function Show-Progress([string] $key, [string] $command) {
            $ps = [powershell]::Create()
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $manifest).AddStatement()
            $null = $ps.AddScript("param(`$qurl, `$qkey, `$purl, `$pkey, `$pg) $command | Out-Null").AddArgument($qurl).AddArgument($qkey).AddArgument($purl).AddArgument($pkey).AddArgument($pg)
            $null = $ps.Invoke()
            if ($ps.HadErrors) { throw "$key failed: $($ps.Streams.Error[0])" }
            $p = @($ps.Streams.Progress)
            "$key`_FIRST=$($p[0].PercentComplete) $($p[0].SecondsRemaining -ge -1) $($p[0].StatusDescription -replace ', [\d,]+ records/s$', '')"
            "$key`_LAST=$($p[-1].RecordType) $($p[-1].PercentComplete) $($p[-1].StatusDescription -replace ', [\d,]+ records/s$', '')"
            $ps.Dispose()
        }
        """;

    [PwshFact]
    public async Task Reads_whose_source_counts_its_records_show_percent_from_the_first_update()
    {
        var cs = await services.NewDatabaseAsync();
        await using (var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "docs" }))
        {
            foreach (var r in services.Docs) await w.WriteAsync(r);
            await w.FlushAsync();
        }
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            await using var analyze = new NpgsqlCommand("ANALYZE docs", c); // the catalog's count, which Get-PgVector reads
            await analyze.ExecuteNonQueryAsync();
        }

        var run = services.Run(Capture + """

            Show-Progress QDRANT 'Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs -PageSize 100'
            Show-Progress PINECONE 'Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies -Namespace alpha'
            Show-Progress PG 'Get-PgVector -ConnectionString $pg -Table docs'
            Show-Progress COPY 'Copy-VectorData -Source (New-PgVectorSource -ConnectionString $pg -Table docs) -Target (New-PgVectorTarget -ConnectionString $pg -Table copied) -Confirm:$false'
            Show-Progress FILTERED 'Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs -Filter @{ must = @(@{ key = ''city''; match = @{ value = ''Oslo'' } }) }'
            """, cs).Completed();

        // The first update shown already counts out of the source's total (the pump shows the latest update, so a fast
        // read may show only its last).
        Assert.Matches(@"^\d+ True [\d,]+ of 1,000 records$", run["QDRANT_FIRST"]);
        Assert.Equal("Completed 100 1,000 of 1,000 records", run["QDRANT_LAST"]);
        Assert.Matches(@"^\d+ True [\d,]+ of 45 records$", run["PINECONE_FIRST"]);
        Assert.Equal("Completed 100 45 of 45 records", run["PINECONE_LAST"]);
        Assert.Matches(@"^\d+ True [\d,]+ of 1,000 records$", run["PG_FIRST"]);
        Assert.Equal("Completed 100 1,000 of 1,000 records", run["PG_LAST"]);
        Assert.Equal("Completed 100 1,000 of 1,000 records", run["COPY_LAST"]);
        // A filtered read: Qdrant's points_count does not count it, so no percent is made up.
        Assert.Matches(@"^-1 True [\d,]+ records$", run["FILTERED_FIRST"]);
        Assert.Equal("Completed -1 250 records", run["FILTERED_LAST"]);
    }
}
