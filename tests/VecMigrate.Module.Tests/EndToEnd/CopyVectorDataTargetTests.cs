using VecMigrate.Module.Tests.Support;
using VecMigrate.Testing;

namespace VecMigrate.Module.Tests.EndToEnd;

/// <summary>
/// Copy-VectorData into Qdrant and Pinecone targets (New-QdrantTarget, New-PineconeTarget) in a real pwsh: a
/// time-limited first run stops incomplete, the same command resumes from the file checkpoint under -StateDirectory
/// and completes, and the target then holds exactly the source. Skipped, with the reason, where there is no pwsh.
/// </summary>
[Collection(ModuleServicesCollection.Name)]
public sealed class CopyVectorDataTargetTests(ModuleServices services)
{
    // Fills $pg's table docs from the Qdrant collection docs (1,000 points with integer ids).
    private const string SeedDocs = "$null = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Write-PgVector -ConnectionString $pg -Table docs\n";

    private static string NewStateDirectory() => Path.Combine(Path.GetTempPath(), $"vecmigrate-targets-{Guid.NewGuid():N}");

    [PwshFact]
    public async Task A_Postgres_table_copied_into_a_Qdrant_target_resumes_from_its_file_checkpoint_and_ends_exact()
    {
        var cs = await services.NewDatabaseAsync();
        var dir = NewStateDirectory();
        services.Qdrant.Faults.Delay = TimeSpan.FromMilliseconds(400); // each upsert takes a while, so the time limit falls mid-copy (with room for a loaded machine: at 150 ms and 1 s nothing was written once under load)
        PwshRun run;
        try
        {
            run = services.Run(SeedDocs + $$"""
                $dir = '{{dir}}'
                $from = New-PgVectorSource -ConnectionString $pg -Table docs
                $to = New-QdrantTarget -Url $qurl -ApiKey $qkey -Collection docs_copy -Distance Dot -BatchSize 50
                "SPEC.TYPE=$($to.GetType().Name)"; "SPEC.SYSTEM=$($to.System)"; "SPEC.HASKEY=$($to.HasApiKey)"; "SPEC.TEXT=$("$to" -like "Qdrant *collection 'docs_copy'*")"
                $to; $to | Format-List * | Out-String; $to | ConvertTo-Json -Depth 3 # none of it shows the key
                $a = Copy-VectorData -Source $from -Target $to -Checkpoint pg-to-qdrant -Resume -StateDirectory $dir -TimeLimit ([timespan]::FromSeconds(3))
                $cp = Get-VecMigrateCheckpoint -StateDirectory $dir -Name pg-to-qdrant
                "FIRST.COMPLETED=$($a.Completed)"; "FIRST.PART=$($a.RecordsWritten -gt 0 -and $a.RecordsWritten -lt 1000)"; "FIRST.CPRECORDS=$($cp.Records -eq $a.RecordsWritten)"; "FIRST.CPCOMPLETED=$($cp.Completed)"
                $b = Copy-VectorData -Source $from -Target $to -Checkpoint pg-to-qdrant -Resume -StateDirectory $dir
                "SECOND.COMPLETED=$($b.Completed)"; "SECOND.BEFORE=$($b.RecordsBefore -eq $a.RecordsWritten)"; "SECOND.TOTAL=$($b.TotalRecords)"
                "FILE=$(Test-Path (Join-Path $dir 'pg-to-qdrant.json'))"
                "LISTED=$((Get-VecMigrateCheckpoint -StateDirectory $dir | ForEach-Object { "$($_.Name):$($_.Records):$($_.Completed)" }) -join ',')"
                """, cs);
        }
        finally
        {
            services.Qdrant.Faults.Delay = TimeSpan.Zero;
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        run.Completed();
        Assert.Equal(("QdrantTargetSpec", "Qdrant", "True", "True"), (run["SPEC.TYPE"], run["SPEC.SYSTEM"], run["SPEC.HASKEY"], run["SPEC.TEXT"]));
        // A slice cut short: not complete, part of the records, the checkpoint file at the same count; then resumed to 1,000.
        Assert.Equal(("False", "True", "True", "False"), (run["FIRST.COMPLETED"], run["FIRST.PART"], run["FIRST.CPRECORDS"], run["FIRST.CPCOMPLETED"]));
        Assert.Equal(("True", "True", "1000"), (run["SECOND.COMPLETED"], run["SECOND.BEFORE"], run["SECOND.TOTAL"]));
        Assert.Equal("True", run["FILE"]);
        Assert.Equal("pg-to-qdrant:1000:True", run["LISTED"]);
        Assert.DoesNotContain(ModuleServices.QdrantKey, run.Output);
        Assert.Contains("collection 'docs_copy'", run.Output); // the spec's views did print something
        // A Dot collection keeps the vectors unchanged: the copy holds exactly the source, bit for bit.
        RecordAssert.SameSet(services.Docs, services.Qdrant.Points("docs_copy"));
    }

    [PwshFact]
    public async Task A_Postgres_table_copied_into_a_Pinecone_target_resumes_from_its_file_checkpoint_and_ends_exact()
    {
        var cs = await services.NewDatabaseAsync();
        var dir = NewStateDirectory();
        await services.Pinecone.CreateIndexAsync("docs_target", ModuleServices.DocsDimension, "dotproduct");
        services.Pinecone.ResponseDelay = TimeSpan.FromMilliseconds(400); // each upsert takes a while, so the time limit falls mid-copy (with room for a loaded machine: at 150 ms and 1 s nothing was written once under load)
        PwshRun run;
        try
        {
            run = services.Run(SeedDocs + $$"""
                $dir = '{{dir}}'
                $from = New-PgVectorSource -ConnectionString $pg -Table docs
                $to = New-PineconeTarget -Url $purl -ApiKey $pkey -IndexName docs_target -Namespace prod -BatchSize 50
                "SPEC.TYPE=$($to.GetType().Name)"; "SPEC.SYSTEM=$($to.System)"; "SPEC.TEXT=$("$to" -eq "Pinecone index 'docs_target' namespace 'prod'")"
                $to; $to | Format-List * | Out-String; $to | ConvertTo-Json -Depth 3 # none of it shows the key
                $a = Copy-VectorData -Source $from -Target $to -Checkpoint pg-to-pinecone -Resume -StateDirectory $dir -TimeLimit ([timespan]::FromSeconds(3))
                $cp = Get-VecMigrateCheckpoint -StateDirectory $dir -Name pg-to-pinecone
                "FIRST.COMPLETED=$($a.Completed)"; "FIRST.PART=$($a.RecordsWritten -gt 0 -and $a.RecordsWritten -lt 1000)"; "FIRST.CPRECORDS=$($cp.Records -eq $a.RecordsWritten)"; "FIRST.CPCOMPLETED=$($cp.Completed)"
                $b = Copy-VectorData -Source $from -Target $to -Checkpoint pg-to-pinecone -Resume -StateDirectory $dir
                "SECOND.COMPLETED=$($b.Completed)"; "SECOND.BEFORE=$($b.RecordsBefore -eq $a.RecordsWritten)"; "SECOND.TOTAL=$($b.TotalRecords)"
                "FILE=$(Test-Path (Join-Path $dir 'pg-to-pinecone.json'))"
                "LISTED=$((Get-VecMigrateCheckpoint -StateDirectory $dir | ForEach-Object { "$($_.Name):$($_.Records):$($_.Completed)" }) -join ',')"
                $src = @{}
                Get-PgVector -ConnectionString $pg -Table docs | ForEach-Object { $src["$($_.Id)"] = $_.Vectors[''].Values -join ',' }
                $back = @(Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName docs_target -Namespace prod)
                "BACK.COUNT=$($back.Count)"; "BACK.UNIQUE=$(@($back | Select-Object -ExpandProperty Id -Unique).Count)"; "BACK.DIFFERENT=$(@($back | Where-Object { $src["$($_.Id)"] -cne ($_.Vectors[''].Values -join ',') }).Count)"
                """, cs);
        }
        finally
        {
            services.Pinecone.ResponseDelay = TimeSpan.Zero;
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        run.Completed();
        Assert.Equal(("PineconeTargetSpec", "Pinecone", "True"), (run["SPEC.TYPE"], run["SPEC.SYSTEM"], run["SPEC.TEXT"]));
        // A slice cut short: not complete, part of the records, the checkpoint file at the same count; then resumed to 1,000.
        Assert.Equal(("False", "True", "True", "False"), (run["FIRST.COMPLETED"], run["FIRST.PART"], run["FIRST.CPRECORDS"], run["FIRST.CPCOMPLETED"]));
        Assert.Equal(("True", "True", "1000"), (run["SECOND.COMPLETED"], run["SECOND.BEFORE"], run["SECOND.TOTAL"]));
        Assert.Equal("True", run["FILE"]);
        Assert.Equal("pg-to-pinecone:1000:True", run["LISTED"]);
        Assert.Equal(("1000", "1000", "0"), (run["BACK.COUNT"], run["BACK.UNIQUE"], run["BACK.DIFFERENT"])); // all there, each once, none changed
        Assert.DoesNotContain(services.Pinecone.ApiKey, run.Output);
        Assert.Contains("index 'docs_target' namespace 'prod'", run.Output); // the spec's views did print something
    }
}
