using System.Xml.Linq;
using Npgsql;
using VecMigrate.Engine.Postgres;
using VecMigrate.Module.Tests.Support;
using VecMigrate.Testing;

namespace VecMigrate.Module.Tests.EndToEnd;

/// <summary>
/// The module in a real pwsh, end to end: the cmdlets against real Postgres and the vendor stand-ins, as the README
/// shows them. Skipped, with the reason, where there is no pwsh.
/// </summary>
[Collection(ModuleServicesCollection.Name)]
public sealed class PwshModuleTests(ModuleServices services)
{
    private static async Task<long> CountAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    [PwshFact]
    public async Task Qdrant_points_piped_into_Write_PgVector_arrive_exactly_and_read_back_with_Get_PgVector()
    {
        var cs = await services.NewDatabaseAsync();
        var run = services.Run("""
            $s = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs -PageSize 100 | Write-PgVector -ConnectionString $pg -Table docs -BatchSize 300
            "SUMMARY=$($s.GetType().Name) $($s.Table) $($s.RecordsWritten) $($s.RecordsRejected) $($s.BatchesCommitted)"
            $oslo = Get-QdrantCollection -Url $qurl -ApiKey $qkey -Name 'do*' | Get-QdrantPoint -ApiKey $qkey -NoVector -Filter @{ must = @(@{ key = 'city'; match = @{ value = 'Oslo' } }) }
            "OSLO=$($oslo.Count) $(@($oslo | Where-Object { $_.Vectors.Count -gt 0 }).Count)"
            $back = Get-PgVector -ConnectionString $pg -Table docs -Where 'id <= 10'
            "BACK=$($back.Count) $($back[0].GetType().FullName) $($back[-1].Id)"
            "FIRST=$((Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Select-Object -First 3).Id -join ',')"
            """, cs).Completed();

        Assert.Equal("PgWriteSummary public.docs 1000 0 4", run["SUMMARY"]);
        Assert.Equal("250 0", run["OSLO"]);
        Assert.Equal("10 VecMigrate.Engine.Records.VectorRecord 10", run["BACK"]);
        Assert.Equal("1,2,3", run["FIRST"]);
        RecordAssert.SameSet(services.Docs, await ModuleServices.ReadBackAsync(cs, "docs"));
    }

    [PwshFact]
    public async Task Qdrant_points_read_and_written_over_gRPC_arrive_exactly_as_over_REST_piped_or_copied()
    {
        var cs = await services.NewDatabaseAsync();
        var grpcBefore = services.Qdrant.GrpcScrollRequests;
        var grpcUpsertsBefore = services.Qdrant.GrpcUpsertRequests;
        var run = services.Run("""
            $s = Get-QdrantPoint -Url $qurl -GrpcUrl $qgrpc -ApiKey $qkey -Collection docs -PageSize 128 | Write-PgVector -ConnectionString $pg -Table piped
            "PIPED=$($s.RecordsWritten) $($s.RecordsRejected)"
            $m = Copy-VectorData -Source (New-QdrantSource -Url $qurl -GrpcUrl $qgrpc -ApiKey $qkey -Collection docs -PageSize 300) -Target (New-PgVectorTarget -ConnectionString $pg -Table copied) -Checkpoint grpc-copy -Resume
            "COPIED=$($m.Completed) $($m.RecordsWritten)"
            try { Get-QdrantPoint -Url $qurl -GrpcUrl $qgrpc -ApiKey $qkey -Collection nope; 'MISSING=no' } catch { "MISSING=$($_.FullyQualifiedErrorId)" }
            try { Get-QdrantPoint -Url $qurl -GrpcUrl 'ftp://x/' -Collection docs; 'BADURL=no' } catch { "BADURL=$($_.FullyQualifiedErrorId) $($_.TargetObject)" }
            $f = Get-QdrantPoint -Url $qurl -GrpcUrl $qgrpc -ApiKey $qkey -Collection docs -NoVector -Filter @{ must = @(@{ key = 'city'; match = @{ value = 'Oslo' } }) }
            "FILTERED=$($f.Count)"
            $w = Get-PgVector -ConnectionString $pg -Table piped | Write-QdrantPoint -Url $qurl -GrpcUrl $qgrpc -ApiKey $qkey -Collection grpc_back -Distance Cosine -BatchSize 300
            "WRITTEN=$($w.RecordsWritten) $($w.BatchesCommitted)"
            """, cs).Completed();

        Assert.Equal("1000 0", run["PIPED"]);
        Assert.Equal("True 1000", run["COPIED"]);
        Assert.StartsWith("QdrantCollectionNotFound,", run["MISSING"]);
        Assert.Equal("QdrantUrlInvalid,VecMigrate.Commands.GetQdrantPointCommand ftp://x/", run["BADURL"]);
        Assert.Equal("250", run["FILTERED"]);
        Assert.Equal("1000 4", run["WRITTEN"]);
        Assert.True(services.Qdrant.GrpcScrollRequests - grpcBefore >= 8 + 4, "the pages were not read over gRPC");
        Assert.True(services.Qdrant.GrpcUpsertRequests - grpcUpsertsBefore == 4, "the points were not written over gRPC");
        RecordAssert.SameSet(services.Docs, await ModuleServices.ReadBackAsync(cs, "piped"));
        RecordAssert.SameSet(services.Docs, await ModuleServices.ReadBackAsync(cs, "copied"));
    }

    [PwshFact]
    public async Task Pinecone_vectors_piped_into_Write_PgVector_keep_their_namespaces()
    {
        var cs = await services.NewDatabaseAsync();
        var run = services.Run("""
            $s = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies -PageSize 7 | Write-PgVector -ConnectionString $pg -Table movies
            "WRITTEN=$($s.RecordsWritten)"
            $index = Get-PineconeIndex -Url $purl -ApiKey $pkey -Name 'mov*'
            "INDEX=$($index.Name) $($index.Dimension) $($index.Metric) $($index.Deployment) $($index.TotalVectorCount) $($index.NamespaceCounts)"
            "ALPHA=$(@($index | Get-PineconeVector -Url $purl -ApiKey $pkey -Namespace alpha).Count)"
            """, cs).Completed();

        Assert.Equal("75", run["WRITTEN"]);
        Assert.Equal("movies 4 cosine Serverless 75 (default) 30, alpha 45", run["INDEX"]);
        Assert.Equal("45", run["ALPHA"]); // piped by Name and Host: read straight from the index's host
        RecordAssert.SameSet(services.Movies, await ModuleServices.ReadBackAsync(cs, "movies"));
    }

    [PwshFact]
    public async Task Csv_rows_become_typed_rows_and_a_value_that_does_not_convert_is_reported_and_skipped()
    {
        var cs = await services.NewDatabaseAsync();
        var csv = Path.Combine(Path.GetTempPath(), $"vecmigrate-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(csv, """
            id,title,year,embedding
            a1,First,2020,"[0.1, 0.2, 0.30000001]"
            a2,Second,nineteen,"[0.5, 0.6, 0.7]"
            a3,Third,2022,"0.9,1.0,1.1"
            """);
        try
        {
            var run = services.Run($$"""
                $s = Import-Csv '{{csv}}' | ConvertTo-PgVectorRecord -VectorProperty embedding -Column @{ year = 'int' } -ErrorVariable bad -ErrorAction SilentlyContinue |
                    Write-PgVector -ConnectionString $pg -Table csvdocs
                "WRITTEN=$($s.RecordsWritten)"
                "BAD=$($bad.Count) $($bad[0].FullyQualifiedErrorId) $($bad[0].CategoryInfo.Category) $($bad[0].TargetObject.Id)"
                "MESSAGE=$($bad[0].Exception.Message)"
                """, cs).Completed();

            Assert.Equal("2", run["WRITTEN"]);
            Assert.Equal("1 ConvertFieldInvalid,VecMigrate.Commands.ConvertToPgVectorRecordCommand InvalidData a2", run["BAD"]);
            Assert.Contains("field 'year' holds \"nineteen\"", run["MESSAGE"]);
            Assert.Equal(2, await CountAsync(cs, "SELECT count(*) FROM csvdocs WHERE year IN (2020, 2022) AND payload->>'title' IS NOT NULL"));
            Assert.Equal(1, await CountAsync(cs, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'csvdocs' AND column_name = 'year' AND data_type = 'integer'"));
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [PwshFact]
    public async Task A_bad_record_is_a_non_terminating_error_naming_it_and_ErrorAction_Stop_stops_at_it()
    {
        var cs = await services.NewDatabaseAsync();
        var run = services.Run("""
            $records = 1..20 | ForEach-Object { @{ id = $_; embedding = if ($_ -eq 7) { 1.0, 2.0 } else { 1.0, 2.0, [double]$_ } } } | ConvertTo-PgVectorRecord
            $s = $records | Write-PgVector -ConnectionString $pg -Table going -BatchSize 5 -ErrorVariable bad -ErrorAction SilentlyContinue
            "GOING=$($s.RecordsWritten) $($s.RecordsRejected) $($bad.Count) $($bad[0].FullyQualifiedErrorId) $($bad[0].TargetObject.GetType().Name):$($bad[0].TargetObject)"
            try { $records | Write-PgVector -ConnectionString $pg -Table stopping -BatchSize 5 -ErrorAction Stop; 'STOPPED=no' } catch { "STOPPED=$($_.FullyQualifiedErrorId)" }
            try { $records | Write-PgVector -ConnectionString 'Host=127.0.0.1;Port=1;Username=x;Timeout=3' -Table t; 'ENDPOINT=no' } catch { "ENDPOINT=$($_.FullyQualifiedErrorId) $($_.CategoryInfo.Category)" }
            try { Get-QdrantPoint -Url $qurl -ApiKey 'not-the-key' -Collection docs; 'KEY=no' } catch { "KEY=$($_.FullyQualifiedErrorId) $($_.TargetObject)" }
            """, cs).Completed();

        Assert.Equal("19 1 1 PgVectorDimensionMismatch,VecMigrate.Commands.WritePgVectorCommand VectorRecord:7", run["GOING"]);
        Assert.Equal(19, await CountAsync(cs, "SELECT count(*) FROM going"));
        Assert.StartsWith("PgVectorDimensionMismatch,", run["STOPPED"]);
        // Records 1-5 were a committed batch; 6 was in the open one, rolled back; nothing after 7 was written.
        Assert.Equal(5, await CountAsync(cs, "SELECT count(*) FROM stopping"));
        Assert.Equal(5, await CountAsync(cs, "SELECT max(id) FROM stopping"));
        Assert.Equal("PgUnreachable,VecMigrate.Commands.WritePgVectorCommand ConnectionError", run["ENDPOINT"]);
        Assert.StartsWith("QdrantUnauthorized,VecMigrate.Commands.GetQdrantPointCommand http://127.0.0.1:", run["KEY"]);
    }

    [PwshFact]
    public async Task WhatIf_prints_the_plan_and_writes_nothing_and_Replace_asks_unless_Force()
    {
        var cs = await services.NewDatabaseAsync();
        var run = services.Run("""
            Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Write-PgVector -ConnectionString $pg -Table planned -Index Hnsw -WhatIf
            $line = "Get-PgVector -ConnectionString '$pg' -Table "
            "TABLES=$((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.Count)"
            $ten = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Select-Object -First 10
            $null = $ten | Write-PgVector -ConnectionString $pg -Table kept
            try { $ten | Select-Object -First 2 | Write-PgVector -ConnectionString $pg -Table kept -Mode Replace; 'ASKED=no' } catch { "ASKED=$($_.Exception.Message)" }
            "AFTERASK=$(@(Get-PgVector -ConnectionString $pg -Table kept).Count)"
            $null = $ten | Select-Object -First 2 | Write-PgVector -ConnectionString $pg -Table kept -Mode Replace -WhatIf
            "AFTERWHATIF=$(@(Get-PgVector -ConnectionString $pg -Table kept).Count)"
            $null = $ten | Select-Object -First 2 | Write-PgVector -ConnectionString $pg -Table kept -Mode Replace -Force
            "AFTERFORCE=$(@(Get-PgVector -ConnectionString $pg -Table kept).Count)"
            $null = $ten | Select-Object -First 3 | Write-PgVector -ConnectionString $pg -Table kept -Mode Replace -Confirm:$false
            "AFTERCONFIRMFALSE=$(@(Get-PgVector -ConnectionString $pg -Table kept).Count)"
            """, cs).Completed();

        Assert.Contains("What if: Write records into public.planned on 127.0.0.1:", run.Output);
        Assert.Contains("CREATE TABLE \"public\".\"planned\" (", run.Output);
        Assert.Contains("USING hnsw (\"embedding\" vector_cosine_ops)", run.Output);
        Assert.Equal("0", run["TABLES"]); // nothing was created
        Assert.Contains("NonInteractive", run["ASKED"], StringComparison.OrdinalIgnoreCase); // a runbook cannot answer: it fails
        Assert.Equal("10", run["AFTERASK"]);
        Assert.Contains("What if: Write records into public.kept", run.Output);
        Assert.Contains("Replace: every row of the existing table is deleted (TRUNCATE)", run.Output);
        Assert.Equal("10", run["AFTERWHATIF"]);
        Assert.Equal("2", run["AFTERFORCE"]);
        Assert.Equal("3", run["AFTERCONFIRMFALSE"]);
        Assert.Equal(["kept"], await PgCatalog.ListTablesAsync(cs));
    }

    [PwshFact]
    public async Task Secrets_never_appear_in_any_stream_or_error_record()
    {
        var cs = await services.NewDatabaseAsync();
        string[] secrets = ["wrong-qdrant-key-8812", "pg-pass-Secr3t-4471", "pinecone-bad-key-5531", "uri-pass-Secr3t-9902", "cred-pass-Secr3t-3307", ModuleServices.QdrantKey];
        var run = services.Run("""
            $VerbosePreference = 'Continue'; $DebugPreference = 'Continue'
            $env:QDRANT_API_KEY = $qkey
            $badPg = 'Host=127.0.0.1;Port=1;Username=bob;Password=pg-pass-Secr3t-4471;Timeout=3'
            $uriPg = 'postgres://bob:uri-pass-Secr3t-9902@127.0.0.1:1/db?connect_timeout=3'
            $cred = [pscredential]::new('bob', (ConvertTo-SecureString 'cred-pass-Secr3t-3307' -AsPlainText -Force))
            $all = & {
                Get-QdrantPoint -Url $qurl -ApiKey 'wrong-qdrant-key-8812' -Collection docs
                Get-QdrantPoint -Url $qurl -Collection docs -PageSize 5 | Select-Object -First 10 | Write-PgVector -ConnectionString $badPg -Table x
                Get-QdrantPoint -Url $qurl -Collection docs -PageSize 5 | Select-Object -First 10 | Write-PgVector -ConnectionString $pg -Table ok -Credential ([pscredential]::new('postgres', (ConvertTo-SecureString 'cred-pass-Secr3t-3307' -AsPlainText -Force)))
                Get-PineconeIndex -Url $purl -ApiKey 'pinecone-bad-key-5531'
                Get-PgVector -ConnectionString $uriPg -Table t
                Get-VecMigrateCheckpoint -ConnectionString 'Host=127.0.0.1;Port=1;Timeout=3' -Credential $cred
            } *>&1
            $text = foreach ($item in $all) {
                if ($item -is [System.Management.Automation.ErrorRecord]) {
                    "$item"; "$($item.Exception)"; "$($item.TargetObject)"; "$($item.ErrorDetails)"; "$($item.CategoryInfo)"
                } else { "$item" }
            }
            "ERRORS=$(@($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }).Count)"
            "LOGLINES=$(@($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -or $_ -is [System.Management.Automation.DebugRecord] }).Count)"
            $text -join "`n"
            """, cs).Completed();

        Assert.Equal("5", run["ERRORS"]);
        Assert.True(int.Parse(run["LOGLINES"]) > 5, "the engine's log lines were not captured, so the check would prove nothing");
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, run.Output);
            Assert.DoesNotContain(secret, run.Error);
        }
        Assert.Contains("Qdrant refused the API key", run.Output);
    }

    [PwshFact]
    public async Task Connection_strings_can_be_left_to_the_PG_variables_and_checkpoints_are_listed_and_removed()
    {
        var cs = await services.NewDatabaseAsync();
        var parts = new NpgsqlConnectionStringBuilder(cs);
        var run = services.Run($$"""
            $env:PGHOST = '{{parts.Host}}'; $env:PGPORT = '{{parts.Port}}'; $env:PGDATABASE = '{{parts.Database}}'; $env:PGUSER = '{{parts.Username}}'
            $s = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Select-Object -First 500 | Write-PgVector -Table docs -BatchSize 200 -Checkpoint nightly
            "WRITTEN=$($s.RecordsWritten)"
            "READ=$(@(Get-PgVector -Table docs -VectorColumn embedding -Column payload -Where 'id > 490').Count)"
            $cp = Get-VecMigrateCheckpoint -Name 'night*'
            "CHECKPOINT=$($cp.Name) $($cp.Records) $($cp.Position) $($cp.Completed) $($cp.Target)"
            $more = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs -StartAfter $cp.Position | Select-Object -First 100 | Write-PgVector -Table docs -Checkpoint nightly -Resume
            "RESUMED=$($more.RecordsWritten) $((Get-VecMigrateCheckpoint -Name nightly).Records)"
            Get-VecMigrateCheckpoint | Remove-VecMigrateCheckpoint -WhatIf
            "AFTERWHATIF=$(@(Get-VecMigrateCheckpoint).Count)"
            Remove-VecMigrateCheckpoint -Name nightly, nope -Force -ErrorVariable missing -ErrorAction SilentlyContinue
            "REMOVED=$(@(Get-VecMigrateCheckpoint).Count) $($missing[0].FullyQualifiedErrorId)"
            """, cs).Completed();

        Assert.Equal("500", run["WRITTEN"]);
        Assert.Equal("10", run["READ"]);
        Assert.Equal("nightly 500 500 True public.docs", run["CHECKPOINT"]);
        Assert.Equal("100 600", run["RESUMED"]);
        Assert.Contains("What if: Performing the operation \"Remove\" on target \"checkpoint 'nightly'", run.Output);
        Assert.Equal("1", run["AFTERWHATIF"]);
        Assert.Equal("0 PgCheckpointNotFound,VecMigrate.Commands.RemoveVecMigrateCheckpointCommand", run["REMOVED"]);
        Assert.Equal(600, await CountAsync(cs, "SELECT count(*) FROM docs"));
    }

    [PwshFact]
    public async Task Stopping_the_pipeline_keeps_committed_batches_and_rolls_back_the_open_one()
    {
        var cs = await services.NewDatabaseAsync();
        var run = services.Run("""
            $ps = [powershell]::Create()
            $null = $ps.AddScript({
                param($manifest, $pg)
                Import-Module $manifest
                1..100000000 | ForEach-Object { @{ id = $_; embedding = 1.0, 2.0, 3.0 } } | ConvertTo-PgVectorRecord |
                    Write-PgVector -ConnectionString $pg -Table stopped -BatchSize 1000 -Checkpoint stopping
            }).AddArgument($manifest).AddArgument($pg)
            $handle = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            do { Start-Sleep -Milliseconds 200; $committed = (Get-VecMigrateCheckpoint -ConnectionString $pg -Name stopping).Records }
            until ($committed -ge 3000 -or [DateTime]::UtcNow -gt $deadline)
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            "CHECKPOINT=$((Get-VecMigrateCheckpoint -ConnectionString $pg -Name stopping).Records)"
            "STOPPED=$($ps.InvocationStateInfo.State) $($watch.Elapsed.TotalSeconds -lt 10)"
            """, cs).Completed();

        Assert.Equal("Stopped True", run["STOPPED"]);
        var rows = await CountAsync(cs, "SELECT count(*) FROM stopped");
        Assert.True(rows >= 3000 && rows % 1000 == 0, $"{rows} rows: not whole batches");
        Assert.Equal(rows, await CountAsync(cs, "SELECT max(id) FROM stopped")); // the first rows, in order, no gap
        Assert.Equal(rows.ToString(), run["CHECKPOINT"]); // the checkpoint agrees with the table
    }

    [PwshFact]
    public void Get_Help_shows_every_cmdlets_synopsis_parameters_and_examples_from_beside_the_assembly()
    {
        var run = services.Run("""
            foreach ($command in Get-Command -Module VecMigrate) {
                $help = Get-Help $command.Name -Full
                $parameters = @($help.parameters.parameter).Count
                $examples = @($help.examples.example).Count
                "HELP_$($command.Name.Replace('-', '_').ToUpperInvariant())=$($help.Synopsis)|$parameters|$examples"
            }
            """, "").Completed();

        var xml = XDocument.Load(Path.Combine(Repo.ModuleDir, "en-US", "VecMigrate.dll-Help.xml"));
        XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10", maml = "http://schemas.microsoft.com/maml/2004/10";
        foreach (var c in xml.Root!.Elements(command + "command"))
        {
            var name = c.Element(command + "details")!.Element(command + "name")!.Value;
            var synopsis = c.Element(command + "details")!.Element(maml + "description")!.Value.Trim();
            var parameters = c.Element(command + "parameters")!.Elements(command + "parameter").Count();
            var examples = c.Descendants(command + "example").Count();
            Assert.Equal($"{synopsis}|{parameters}|{examples}", run[$"HELP_{name.Replace('-', '_').ToUpperInvariant()}"]);
        }
        // Found where the build lays it out: beside VecMigrate.dll (see VecMigrate.csproj).
        Assert.Equal(File.ReadAllText(Path.Combine(Repo.ModuleDir, "en-US", "VecMigrate.dll-Help.xml")),
            File.ReadAllText(Path.Combine(Repo.ModuleDeps, "en-US", "VecMigrate.dll-Help.xml")));
    }
}
