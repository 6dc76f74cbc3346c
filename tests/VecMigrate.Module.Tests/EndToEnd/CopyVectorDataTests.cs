using Npgsql;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Module.Tests.Support;
using VecMigrate.Testing;

namespace VecMigrate.Module.Tests.EndToEnd;

/// <summary>
/// Copy-VectorData in a real pwsh: the one command that starts, resumes and finishes a migration, and the checkpoint
/// cmdlets over both stores. Skipped, with the reason, where there is no pwsh.
/// </summary>
[Collection(ModuleServicesCollection.Name)]
public sealed class CopyVectorDataTests(ModuleServices services)
{
    private static async Task<long> CountAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    [PwshFact]
    public async Task A_time_limited_run_stops_incomplete_the_same_command_completes_exactly_then_does_nothing_and_another_source_is_refused()
    {
        var cs = await services.NewDatabaseAsync();
        services.Qdrant.Faults.Delay = TimeSpan.FromMilliseconds(400); // each page takes a while, so the time limit falls mid-copy (with room for a loaded machine: at 150 ms and 1 s nothing was written once under load)
        PwshRun run;
        try
        {
            run = services.Run("""
                $from = New-QdrantSource -Url $qurl -ApiKey $qkey -Collection docs -PageSize 100
                $to = New-PgVectorTarget -ConnectionString $pg -Table docs -BatchSize 100
                Copy-VectorData -Source $from -Target (New-PgVectorTarget -ConnectionString $pg -Table planned) -Checkpoint planned -Resume -WhatIf
                $a = Copy-VectorData -Source $from -Target $to -Checkpoint docs-copy -Resume -TimeLimit ([timespan]::FromSeconds(3))
                $cp = Get-VecMigrateCheckpoint -ConnectionString $pg -Name docs-copy
                "FIRST.TYPE=$($a.GetType().Name)"; "FIRST.COMPLETED=$($a.Completed)"; "FIRST.PART=$($a.RecordsWritten -gt 0 -and $a.RecordsWritten -lt 1000)"
                "FIRST.CPRECORDS=$($cp.Records -eq $a.RecordsWritten)"; "FIRST.CPCOMPLETED=$($cp.Completed)"
                $b = Copy-VectorData -Source $from -Target $to -Checkpoint docs-copy -Resume
                "SECOND.COMPLETED=$($b.Completed)"; "SECOND.ALREADY=$($b.AlreadyComplete)"; "SECOND.BEFORE=$($b.RecordsBefore -eq $a.RecordsWritten)"
                "SECOND.RESUMED=$($b.ResumedAfter -eq $cp.Position)"; "SECOND.TOTAL=$($b.TotalRecords)"; "SECOND.CPCOMPLETED=$((Get-VecMigrateCheckpoint -ConnectionString $pg -Name docs-copy).Completed)"
                $c = Copy-VectorData -Source $from -Target $to -Checkpoint docs-copy -Resume
                "THIRD.COMPLETED=$($c.Completed)"; "THIRD.ALREADY=$($c.AlreadyComplete)"; "THIRD.READ=$($c.RecordsRead)"; "THIRD.WRITTEN=$($c.RecordsWritten)"; "THIRD.TOTAL=$($c.TotalRecords)"
                $other = New-QdrantSource -Url $qurl -ApiKey $qkey -Collection docs -Filter @{ must = @(@{ key = 'city'; match = @{ value = 'Oslo' } }) }
                try { Copy-VectorData -Source $other -Target $to -Checkpoint docs-copy -Resume; 'MISMATCH=no' } catch { "MISMATCH=$($_.FullyQualifiedErrorId) $($_.CategoryInfo.Category)" }
                try { Copy-VectorData -Source $from -Target $to -Checkpoint docs-copy; 'EXISTS=no' } catch { "EXISTS=$($_.FullyQualifiedErrorId)" }
                """, cs).Completed();
        }
        finally
        {
            services.Qdrant.Faults.Delay = TimeSpan.Zero;
        }

        Assert.Contains("What if: Copy Qdrant http://127.0.0.1:", run.Output);
        Assert.Equal(0, await CountAsync(cs, "SELECT count(*) FROM pg_tables WHERE tablename = 'planned'"));
        // A slice cut short by -TimeLimit: a summary, not complete, part of the records, the checkpoint at the same count.
        Assert.Equal(("MigrationSummary", "False", "True", "True", "False"),
            (run["FIRST.TYPE"], run["FIRST.COMPLETED"], run["FIRST.PART"], run["FIRST.CPRECORDS"], run["FIRST.CPCOMPLETED"]));
        // The resume: completes, went on from the checkpoint, 1,000 in all.
        Assert.Equal(("True", "False", "True", "True", "1000", "True"),
            (run["SECOND.COMPLETED"], run["SECOND.ALREADY"], run["SECOND.BEFORE"], run["SECOND.RESUMED"], run["SECOND.TOTAL"], run["SECOND.CPCOMPLETED"]));
        // Once more: nothing to do.
        Assert.Equal(("True", "True", "0", "0", "1000"), (run["THIRD.COMPLETED"], run["THIRD.ALREADY"], run["THIRD.READ"], run["THIRD.WRITTEN"], run["THIRD.TOTAL"]));
        Assert.Equal("MigrationCheckpointMismatch,VecMigrate.Commands.CopyVectorDataCommand InvalidArgument", run["MISMATCH"]);
        Assert.Equal("MigrationCheckpointExists,VecMigrate.Commands.CopyVectorDataCommand", run["EXISTS"]);
        var back = await ModuleServices.ReadBackAsync(cs, "docs");
        Assert.Equal(1000, back.Count);
        RecordAssert.SameSet(services.Docs, back);
    }

    [PwshFact]
    public async Task Checkpoints_are_listed_and_removed_in_a_database_and_in_a_state_directory()
    {
        var cs = await services.NewDatabaseAsync();
        var dir = Path.Combine(Path.GetTempPath(), $"vecmigrate-state-{Guid.NewGuid():N}");
        var files = new FileCheckpointStore(dir);
        await files.SaveAsync(new MigrationCheckpoint("files-open", "Qdrant http://a:6333/ collection 'a'", "Qdrant http://b:6333/ collection 'b'", "42", 42, false, DateTimeOffset.UtcNow));
        await files.SaveAsync(new MigrationCheckpoint("files-done", "Qdrant http://a:6333/ collection 'c'", "Qdrant http://b:6333/ collection 'c'", "7", 7, true, DateTimeOffset.UtcNow));
        try
        {
            var run = services.Run($$"""
                $dir = '{{dir}}'
                $null = Copy-VectorData -Source (New-QdrantSource -Url $qurl -ApiKey $qkey -Collection docs) -Target (New-PgVectorTarget -ConnectionString $pg -Table docs) -Checkpoint pg-one -Resume
                "PG=$((Get-VecMigrateCheckpoint -ConnectionString $pg | ForEach-Object { "$($_.Name):$($_.Records):$($_.Completed)" }) -join ',')"
                "FILES=$((Get-VecMigrateCheckpoint -StateDirectory $dir | ForEach-Object { "$($_.Name):$($_.Records):$($_.Position):$($_.Completed)" }) -join ',')"
                "PATTERN=$((Get-VecMigrateCheckpoint -StateDirectory $dir -Name '*open').Name)"
                Get-VecMigrateCheckpoint -StateDirectory $dir | Where-Object Completed | Remove-VecMigrateCheckpoint -StateDirectory $dir -Force
                "FILESAFTER=$((Get-VecMigrateCheckpoint -StateDirectory $dir).Name -join ',')"
                Remove-VecMigrateCheckpoint -StateDirectory $dir -Name nope -Force -ErrorVariable missing -ErrorAction SilentlyContinue
                "MISSING=$($missing[0].FullyQualifiedErrorId)"
                Remove-VecMigrateCheckpoint -ConnectionString $pg -Name pg-one -Force
                "PGAFTER=$(@(Get-VecMigrateCheckpoint -ConnectionString $pg).Count)"
                try { Get-VecMigrateCheckpoint -StateDirectory $dir -ConnectionString $pg; 'BOTH=no' } catch { "BOTH=$($_.FullyQualifiedErrorId)" }
                """, cs).Completed();

            Assert.Equal("pg-one:1000:True", run["PG"]);
            Assert.Equal("files-done:7:7:True,files-open:42:42:False", run["FILES"]);
            Assert.Equal("files-open", run["PATTERN"]);
            Assert.Equal("files-open", run["FILESAFTER"]);
            Assert.Equal("CheckpointNotFound,VecMigrate.Commands.RemoveVecMigrateCheckpointCommand", run["MISSING"]);
            Assert.Equal("0", run["PGAFTER"]);
            Assert.StartsWith("AmbiguousParameterSet,", run["BOTH"]);
            Assert.Equal(1000, await CountAsync(cs, "SELECT count(*) FROM docs")); // removing a checkpoint leaves the data
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [PwshFact]
    public async Task Source_and_target_specs_and_the_copy_never_show_a_secret_in_any_stream()
    {
        var cs = await services.NewDatabaseAsync();
        string[] secrets = [ModuleServices.QdrantKey, "copy-pass-Secr3t-6620", "conn-pass-Secr3t-1187", services.Pinecone.ApiKey];
        var run = services.Run("""
            $cred = [pscredential]::new('postgres', (ConvertTo-SecureString 'copy-pass-Secr3t-6620' -AsPlainText -Force))
            $all = & {
                $from = New-QdrantSource -Url $qurl -ApiKey $qkey -Collection docs -PageSize 250
                $to = New-PgVectorTarget -ConnectionString $pg -Credential $cred -Table secretdocs -Mode Upsert
                $pc = New-PineconeSource -Url $purl -ApiKey $pkey -IndexName movies -Namespace alpha
                $ps = New-PgVectorSource -ConnectionString $pg -Credential $cred -Table secretdocs
                $from; $to; $pc; $ps; "$from"; "$to"; "$pc"; "$ps"
                $from, $to, $pc, $ps | Format-List * | Out-String
                $from, $to, $pc, $ps | ConvertTo-Json -Depth 3
                Copy-VectorData -Source $from -Target $to -Checkpoint secret-copy -Resume -Verbose -Debug
                Copy-VectorData -Source $pc -Target (New-PgVectorTarget -ConnectionString $pg -Credential $cred -Table secretmovies) -Verbose
                $bad = New-PgVectorTarget -ConnectionString 'Host=127.0.0.1;Port=1;Timeout=3;Password=conn-pass-Secr3t-1187' -Table t
                Copy-VectorData -Source $from -Target $bad -MaxReconnects 0 -Verbose
            } *>&1
            $text = foreach ($item in $all) {
                if ($item -is [System.Management.Automation.ErrorRecord]) {
                    "$item"; "$($item.Exception)"; "$($item.TargetObject)"; "$($item.ErrorDetails)"; "$($item.CategoryInfo)"
                } else { "$item" }
            }
            "ERRORS=$(@($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }).Count)"
            "LOGLINES=$(@($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -or $_ -is [System.Management.Automation.DebugRecord] }).Count)"
            "COPIED=$(@($all | Where-Object { $null -ne $_ -and $_.GetType().FullName -eq 'VecMigrate.Engine.Pipeline.MigrationSummary' } | ForEach-Object TotalRecords) -join ',')"
            $text -join "`n"
            """, cs).Completed();

        Assert.Equal("1", run["ERRORS"]);
        Assert.Equal("1000,45", run["COPIED"]);
        Assert.True(int.Parse(run["LOGLINES"]) > 5, "the engine's log lines were not captured, so the check would prove nothing");
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, run.Output);
            Assert.DoesNotContain(secret, run.Error);
        }
        Assert.Contains("Qdrant http://127.0.0.1:", run.Output); // the specs did print something
    }
}
