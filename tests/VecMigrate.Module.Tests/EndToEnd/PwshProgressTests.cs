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
            foreach ($at in @{ FIRST = $p[0]; LAST = $p[-1] }.GetEnumerator()) {
                $r = $at.Value
                "$key`_$($at.Key)=" + (@{ RecordType = "$($r.RecordType)"; Activity = $r.Activity; Percent = $r.PercentComplete
                    SecondsRemaining = $r.SecondsRemaining; Status = $r.StatusDescription } | ConvertTo-Json -Compress)
            }
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
        // read may show only its last); the last completes the activity at 100 % with the whole count.
        AssertCounted(run, "QDRANT", total: 1_000);
        AssertCounted(run, "PINECONE", total: 45);
        AssertCounted(run, "PG", total: 1_000);
        var copy = Progress(run, "COPY_LAST");
        Assert.Equal(("Completed", 100), (copy.RecordType, copy.Percent));
        Assert.StartsWith("1,000 of 1,000 records", copy.Status, StringComparison.Ordinal);
        // A filtered read: Qdrant's points_count does not count it, so no percent and no time left are made up.
        var filtered = Progress(run, "FILTERED_FIRST");
        Assert.Equal((-1, -1), (filtered.Percent, filtered.SecondsRemaining));
        Assert.Matches(@"^[\d,]+ records(, [\d,]+ records/s)?$", filtered.Status);
        var filteredLast = Progress(run, "FILTERED_LAST");
        Assert.Equal(("Completed", -1), (filteredLast.RecordType, filteredLast.Percent));
        Assert.StartsWith("250 records", filteredLast.Status, StringComparison.Ordinal);
    }

    private sealed record ProgressShown(string RecordType, string Activity, int Percent, int SecondsRemaining, string Status);

    private static ProgressShown Progress(PwshRun run, string key) =>
        System.Text.Json.JsonSerializer.Deserialize<ProgressShown>(run[key]) ?? throw new InvalidOperationException($"{key}: no progress record");

    private static void AssertCounted(PwshRun run, string key, int total)
    {
        var first = Progress(run, key + "_FIRST");
        Assert.Contains(first.RecordType, new[] { "Processing", "Completed" }); // a fast read may show only its last
        Assert.InRange(first.Percent, 0, 100);
        Assert.True(first.SecondsRemaining >= -1, $"{key}: seconds remaining {first.SecondsRemaining}");
        Assert.Matches($@"^[\d,]+ of {total:N0} records(, [\d,]+ records/s)?$", first.Status);
        Assert.False(string.IsNullOrEmpty(first.Activity), $"{key}: no activity");

        var last = Progress(run, key + "_LAST");
        Assert.Equal(("Completed", 100, first.Activity), (last.RecordType, last.Percent, last.Activity));
        Assert.StartsWith($"{total:N0} of {total:N0} records", last.Status, StringComparison.Ordinal);
    }
}
