using VecMigrate.Engine.Http;
using VecMigrate.Engine.Milvus;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Milvus;
using VecMigrate.Engine.Tests.Pinecone;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Pipeline;

/// <summary>
/// Search parity and sample fetches through Pinecone's query (checked against Pinecone's 2026-04 documents) and
/// Milvus's search (docs/milvus-contract.md): namespace by namespace, every metric, scores in one form.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SearchPineconeMilvusTests(PostgresFixture pg)
{
    private static List<VectorRecord> Records(int count, int dims, int seed, Func<int, string?> ns)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(i => new VectorRecord($"doc-{i:D4}",
            new Dictionary<string, VectorValue> { [""] = new DenseVector(MilvusKit.Vec(rng, dims)) },
            JsonPayload.FromString($$"""{"i":{{i}},"genre":"g{{i % 5}}"}""")) { Namespace = ns(i) }).ToList();
    }

    [Theory]
    [InlineData("cosine", DistanceMetric.Cosine)]
    [InlineData("dotproduct", DistanceMetric.Dot)]
    [InlineData("euclidean", DistanceMetric.Euclid)]
    public async Task Pinecone_copied_into_Postgres_has_search_parity_one_namespace_by_namespace(string metric, DistanceMetric expected)
    {
        await using var kit = await PineconeTestKit.StartAsync(checkContracts: true);
        await kit.StandIn.CreateIndexAsync("src", 6, metric);
        await new PineconeSink(kit.Client, new PineconeSinkOptions { IndexName = "src" })
            .WriteThroughRunnerAsync(Records(600, 6, 3, i => i % 3 == 0 ? "" : "ns" + (i % 3)).ToAsyncEnumerable());
        var cs = await pg.NewDatabaseAsync();
        await using (var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "docs" }))
            await writer.WriteThroughRunnerAsync(kit.Source("src").ReadAsync());

        var result = await MigrationCheck.RunAsync(kit.Source("src").AsMigrationSource(), PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = cs, Table = "docs" }),
            new MigrationCheckOptions { Search = new SearchParityOptions { Queries = 30, TopK = 8 } });

        Assert.True(result.Equal);
        var s = result.Search!;
        Assert.Equal((1.0, 1.0), (s.Recall, s.MinRecall)); // one namespace's neighbours each, on both sides
        Assert.StartsWith(expected + ":", s.Metric);
        Assert.True(s.MaxScoreDifference < 1e-4, $"{s.MaxScoreDifference}");
        Assert.Contains("Pinecone query", s.SourceMethod);
        Assert.True(kit.StandIn.Index("src").QueryRequests >= 30);
        kit.AssertConforms(40);
    }

    [Fact]
    public async Task A_Pinecone_query_is_refused_by_name_for_a_wrong_dimension()
    {
        await using var kit = await PineconeTestKit.StartAsync(checkContracts: true);
        await kit.StandIn.CreateIndexAsync("small", 3);
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => kit.Source("small").SearchAsync(new SearchQuery("", [1, 2], 5, DistanceMetric.Cosine, null, true)));
        Assert.True(ex.Message.Contains("dimension", StringComparison.Ordinal), ex.Message);
        Assert.Contains("127.0.0.1", ex.Target); // the index's data-plane url
        kit.AssertConforms(2);
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, "COSINE")]
    [InlineData(DistanceMetric.Dot, "IP")]
    [InlineData(DistanceMetric.Euclid, "L2")]
    public async Task Postgres_copied_into_Milvus_has_search_parity_one_and_a_sample_is_fetched_by_key(DistanceMetric metric, string milvusMetric)
    {
        var schema = new SourceSchema(SourceKind.Objects, "docs", IdKinds.String, [new VectorField("", VectorKind.Dense, 5, metric)], false, "payload");
        var cs = await pg.NewDatabaseAsync();
        await using (var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "docs" }))
        {
            await writer.WriteThroughRunnerAsync(Records(500, 5, 9, _ => null).Select(r => new VectorRecord(r.Id, r.Vectors, r.Payload) { Schema = schema }).ToAsyncEnumerable());
        }
        var pgSide = PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = cs, Table = "docs" });
        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("docs")))
            await sink.WriteThroughRunnerAsync(pgSide.Read(null));
        Assert.Equal(milvusMetric, m.Collections["docs"].Metrics["vector"]);
        var milvus = MilvusSource.AsMigrationSource(client, new MilvusReadOptions("docs"));

        var result = await MigrationCheck.RunAsync(pgSide, milvus, new MigrationCheckOptions { Search = new SearchParityOptions { Queries = 25, TopK = 10 } });
        Assert.True(result.Equal);
        Assert.Equal(1.0, result.Search!.Recall);
        Assert.StartsWith(metric + ":", result.Search.Metric);
        Assert.True(result.Search.MaxScoreDifference < 1e-4, $"{result.Search.MaxScoreDifference}");
        Assert.Contains("Milvus search", result.Search.TargetMethod);
        Assert.True(m.SearchCount >= 25);

        // A sample finds its records in Milvus by key (pk in [...]), a damaged one named.
        var c = m.Collections["docs"];
        var damaged = c.Rows.First(r => (string)r.Key == "doc-0042").Value;
        ((System.Text.Json.Nodes.JsonObject)damaged["$meta"]!)["genre"] = "changed"; // the payload's keys are in the dynamic field
        var wholeReads = 0;
        var counted = new MigrationSource(milvus.Description, after => { wholeReads++; return milvus.Read(after); }) { Fetch = milvus.Fetch };
        var sample = await MigrationCheck.RunAsync(pgSide, counted, new MigrationCheckOptions { Sample = 500 });
        Assert.Equal((0L, 1L), (sample.Missing, sample.Changed));
        Assert.Equal(["payload.genre"], Assert.Single(sample.Differences).Paths);
        Assert.Contains("fetched from the target by key", sample.Method);
        Assert.Equal(0, wholeReads); // found by key (pk in [...]), never read whole
    }

    [Fact]
    public async Task Milvus_and_Pinecone_target_specs_read_back_what_a_copy_wrote()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        await kit.StandIn.CreateIndexAsync("dst", 4);
        var schema = new SourceSchema(SourceKind.Pinecone, "src", IdKinds.String, [new VectorField("", VectorKind.Dense, 4, DistanceMetric.Cosine)], true, "metadata");
        var records = Records(120, 4, 2, i => i % 2 == 0 ? "" : "odd").Select(r => new VectorRecord(r.Id, r.Vectors, r.Payload) { Namespace = r.Namespace, Schema = schema }).ToList();
        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var loggers = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

        var milvusTarget = new MilvusTargetSpec(m.Url, new ApiSecret(MilvusKit.Token), "dst");
        await using (var sink = milvusTarget.Open(t, loggers)) await Migration.RunAsync(MigrationSource.Once("records", records.ToAsyncEnumerable()), sink);
        var pineconeTarget = new PineconeTargetSpec(new ApiSecret(kit.StandIn.ApiKey), kit.StandIn.ControlPlaneUrl, new PineconeSinkOptions { IndexName = "dst" });
        await using (var sink = pineconeTarget.Open(t, loggers)) await Migration.RunAsync(MigrationSource.Once("records", records.ToAsyncEnumerable()), sink);

        Assert.Equal(120, m.Collections["dst"].Rows.Count);
        RecordAssert.SameSet(records, await milvusTarget.AsSource().Open(t, loggers).Read(null).ToListAsync());
        RecordAssert.SameSet(records, await pineconeTarget.AsSource().Open(t, loggers).Read(null).ToListAsync());
    }

    [Fact]
    public async Task A_record_in_a_namespace_is_refused_by_name_where_the_collection_keeps_none()
    {
        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var records = Records(10, 3, 4, i => i == 7 ? "tenant-b" : null); // no schema: the first record decides, and it has no namespace
        await using var sink = new MilvusSink(MilvusKit.Client(m, t), new MilvusSinkOptions("plain"));
        var rejected = new List<RecordRejectedException>();
        var summary = await Migration.RunAsync(MigrationSource.Once("records", records.ToAsyncEnumerable()), sink,
            new MigrationOptions { OnRejected = (e, _) => { rejected.Add(e); return ValueTask.CompletedTask; } });
        Assert.Equal((9L, 1L), (summary.RecordsWritten, summary.RecordsRejected));
        var e = Assert.Single(rejected);
        Assert.Equal("doc-0007", e.Record.Id.ToString());
        Assert.Contains("namespace 'tenant-b'", e.Message);
    }

    [Fact]
    public async Task Pinecone_namespaces_copied_into_Milvus_are_searched_one_at_a_time()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        await kit.StandIn.CreateIndexAsync("src", 4, "euclidean");
        // The same vectors in two namespaces: without the namespace filter, every query would find its twin too.
        var one = Records(150, 4, 1, _ => "a");
        var two = one.Select(r => new VectorRecord(r.Id, r.Vectors, r.Payload) { Namespace = "b" });
        await new PineconeSink(kit.Client, new PineconeSinkOptions { IndexName = "src" }).WriteThroughRunnerAsync(one.Concat(two).ToAsyncEnumerable());
        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("fromp") { }))
        {
            // Ids repeat across the namespaces: one collection per namespace, as docs/milvus.md says.
            await sink.WriteThroughRunnerAsync(kit.Source("src").ReadAsync(new PineconeReadOptions { Namespaces = ["a"] }));
        }
        var result = await MigrationCheck.RunAsync(kit.Source("src").AsMigrationSource(new PineconeReadOptions { Namespaces = ["a"] }),
            MilvusSource.AsMigrationSource(client, new MilvusReadOptions("fromp")), new MigrationCheckOptions { Search = new SearchParityOptions { Queries = 20, TopK = 5 } });
        Assert.True(result.Equal);
        Assert.Equal(1.0, result.Search!.Recall);
        Assert.StartsWith("Euclid:", result.Search.Metric);
    }
}
