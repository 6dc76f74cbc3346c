using Npgsql;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Module.Tests.Support;
using VecMigrate.Testing;

namespace VecMigrate.Module.Tests.EndToEnd;

/// <summary>
/// Write-QdrantPoint, Write-PineconeVector and the digest cmdlets in a real pwsh, against real Postgres and the vendor
/// stand-ins (which normalize Cosine vectors as Qdrant does). Skipped, with the reason, where there is no pwsh.
/// </summary>
[Collection(ModuleServicesCollection.Name)]
public sealed class PwshWriteTests(ModuleServices services)
{
    // Fills $pg's table docs from the Qdrant collection docs (1,000 points with integer ids).
    private const string SeedDocs = "$null = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Write-PgVector -ConnectionString $pg -Table docs\n";

    private static async Task ExecuteAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }

    [PwshFact]
    public async Task Postgres_rows_piped_into_Write_QdrantPoint_arrive_exactly_and_a_Cosine_collection_matches_the_normalized_source()
    {
        var cs = await services.NewDatabaseAsync();
        var run = services.Run(SeedDocs + """
            $s = Get-PgVector -ConnectionString $pg -Table docs | Write-QdrantPoint -Url $qurl -ApiKey $qkey -Collection pg_dot -Distance Dot -BatchSize 300
            "SUMMARY=$($s.GetType().Name) $($s.Collection) $($s.RecordsWritten) $($s.RecordsRejected) $($s.BatchesCommitted)"
            $a = Get-PgVector -ConnectionString $pg -Table docs | Measure-VectorDigest
            $b = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection pg_dot | Measure-VectorDigest
            "DOT=$((Compare-VectorDigest $a $b).Equal) $($a.Count) $($b.Count)"
            $null = Get-PgVector -ConnectionString $pg -Table docs | Write-QdrantPoint -Url $qurl -ApiKey $qkey -Collection pg_cos -Distance Cosine
            $c = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection pg_cos | Measure-VectorDigest
            $n = Get-PgVector -ConnectionString $pg -Table docs | Measure-VectorDigest -NormalizeDense
            "COSINE=$((Compare-VectorDigest $a $c).Equal) $((Compare-VectorDigest $n $c).Equal)"
            """, cs).Completed();

        Assert.Equal("QdrantWriteSummary pg_dot 1000 0 4", run["SUMMARY"]);
        Assert.Equal("True 1000 1000", run["DOT"]);
        Assert.Equal("False True", run["COSINE"]); // stored unit length: equal only to the normalized source
        RecordAssert.SameSet(services.Docs, services.Qdrant.Points("pg_dot"));
    }

    [PwshFact]
    public async Task Pinecone_vectors_piped_into_Write_QdrantPoint_get_uuids_with_the_original_id_and_namespace_and_compare_equal()
    {
        var cs = await services.NewDatabaseAsync();
        var run = services.Run("""
            $s = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies | Write-QdrantPoint -Url $qurl -ApiKey $qkey -Collection movies_q
            "WRITTEN=$($s.RecordsWritten)"
            $first = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection movies_q | Select-Object -First 1
            "FIRST=$($first.Id.Kind) $($first.Payload.ToString() -match '"original_id":"m\d{3}"') $($first.Payload.ToString() -match '"namespace":')"
            $ignore = 'original_id', 'namespace'
            $a = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies | Measure-VectorDigest -NormalizeDense -QdrantId -IgnorePayloadField $ignore
            $b = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection movies_q | Measure-VectorDigest -IgnorePayloadField $ignore
            "EQUAL=$((Compare-VectorDigest $a $b).Equal) $($b.Count)"
            """, cs).Completed();

        Assert.Equal("75", run["WRITTEN"]);
        Assert.Equal("Uuid True True", run["FIRST"]);
        Assert.Equal("True 75", run["EQUAL"]);
        var expected = QdrantPointIds.ToQdrant(PointId.FromString("m031"), "alpha");
        Assert.Contains(services.Qdrant.Points("movies_q"), p => p.Id == expected);
    }

    [PwshFact]
    public async Task Postgres_rows_piped_into_Write_PineconeVector_go_into_the_namespace_given()
    {
        var cs = await services.NewDatabaseAsync();
        await services.Pinecone.CreateIndexAsync("docs8", ModuleServices.DocsDimension, "dotproduct");
        var run = services.Run(SeedDocs + """
            $s = Get-PgVector -ConnectionString $pg -Table docs | Write-PineconeVector -Url $purl -ApiKey $pkey -IndexName docs8 -Namespace prod -BatchSize 250
            "SUMMARY=$($s.GetType().Name) $($s.Index) $($s.RecordsWritten) $($s.RecordsRejected) $($s.BatchesCommitted)"
            $back = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName docs8 -Namespace prod
            "BACK=$($back.Count) $(@($back | Where-Object Namespace -eq 'prod').Count)"
            $one = $back | Where-Object { "$($_.Id)" -eq '42' }
            $src = Get-PgVector -ConnectionString $pg -Table docs -Where 'id = 42'
            "SAME=$(($one.Vectors[''].Values -join ',') -eq ($src.Vectors[''].Values -join ','))"
            """, cs).Completed();

        Assert.Equal("PineconeWriteSummary docs8 1000 0 4", run["SUMMARY"]);
        Assert.Equal("1000 1000", run["BACK"]);
        Assert.Equal("True", run["SAME"]);
    }

    [PwshFact]
    public async Task Digests_of_a_migration_are_equal_and_a_changed_row_is_named_by_Compare_VectorDigest()
    {
        var cs = await services.NewDatabaseAsync();
        const string Measure = """
            $a = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Measure-VectorDigest
            $b = Get-PgVector -ConnectionString $pg -Table docs | Measure-VectorDigest
            $r = Compare-VectorDigest $a $b
            "EQUAL=$($r.Equal) $($r.SourceCount) $($r.TargetCount) $($r.DifferingBuckets.Count)"
            $a2 = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Measure-VectorDigest -Bucket $r.DifferingBuckets
            $b2 = Get-PgVector -ConnectionString $pg -Table docs | Measure-VectorDigest -Bucket $r.DifferingBuckets
            $d = Compare-VectorDigest $a2 $b2
            "NAMED=$($d.Missing -join ',')|$($d.Extra -join ',')|$($d.Changed -join ',')"
            """;
        var first = services.Run(SeedDocs + Measure, cs).Completed();
        Assert.Equal("True 1000 1000 0", first["EQUAL"]);
        Assert.Equal("||", first["NAMED"]);

        await ExecuteAsync(cs, """UPDATE docs SET payload = jsonb_set(payload, '{city}', '"Tromsø"') WHERE id = 42; UPDATE docs SET id = 5000 WHERE id = 7""");
        var second = services.Run(Measure, cs).Completed();
        Assert.StartsWith("False 1000 1000 ", second["EQUAL"]);
        Assert.Equal("u:7|u:5000|u:42", second["NAMED"]);
    }
}
