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
            "TYPE=$($s.GetType().Name)"; "TABLE=$($s.Table)"; "WRITTEN=$($s.RecordsWritten)"; "REJECTED=$($s.RecordsRejected)"; "BATCHES=$($s.BatchesCommitted)"
            $oslo = Get-QdrantCollection -Url $qurl -ApiKey $qkey -Name 'do*' | Get-QdrantPoint -ApiKey $qkey -NoVector -Filter @{ must = @(@{ key = 'city'; match = @{ value = 'Oslo' } }) }
            "OSLO=$($oslo.Count)"; "OSLOVECTORS=$(@($oslo | Where-Object { $_.Vectors.Count -gt 0 }).Count)"
            $back = Get-PgVector -ConnectionString $pg -Table docs -Where 'id <= 10'
            "BACK=$($back.Count)"; "BACKTYPE=$($back[0].GetType().FullName)"; "BACKLAST=$($back[-1].Id)"
            "FIRST=$((Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Select-Object -First 3).Id -join ',')"
            """, cs).Completed();

        Assert.Equal(("PgWriteSummary", "public.docs"), (run["TYPE"], run["TABLE"]));
        Assert.Equal(("1000", "0", "4"), (run["WRITTEN"], run["REJECTED"], run["BATCHES"]));
        Assert.Equal(("250", "0"), (run["OSLO"], run["OSLOVECTORS"]));
        Assert.Equal(("10", "VecMigrate.Engine.Records.VectorRecord", "10"), (run["BACK"], run["BACKTYPE"], run["BACKLAST"]));
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
        Assert.Contains("What if: Remove checkpoint 'nightly' in ", run.Output);
        Assert.Equal("1", run["AFTERWHATIF"]);
        Assert.Equal("0 PgCheckpointNotFound,VecMigrate.Commands.RemoveVecMigrateCheckpointCommand", run["REMOVED"]);
        Assert.Equal(600, await CountAsync(cs, "SELECT count(*) FROM docs"));
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
