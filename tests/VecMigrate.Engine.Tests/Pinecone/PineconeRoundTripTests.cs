using System.Globalization;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Qdrant;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Pinecone;

/// <summary>
/// Real Postgres, the Qdrant stand-in and the Pinecone stand-in, through the engine's sources and the
/// <see cref="PineconeSink"/>; what Pinecone holds afterwards is read back and compared exactly with what went in. Both
/// stand-ins check every exchange against their vendor's document (when the documents are there).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PineconeRoundTripTests(PostgresFixture pg, CheckedQdrantStandInFixture qdrant) : IClassFixture<CheckedQdrantStandInFixture>
{
    private readonly long _qdrantCheckedBefore = qdrant.BeginTest();

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static float[] Nasty(int dim, int seed) =>
        PineconeFloatTests.NastyFloats(40, seed).Skip(seed % 25).Take(dim).ToArray();

    [Fact]
    public async Task A_postgres_table_arrives_in_a_pinecone_namespace_exactly()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = new SourceSchema(SourceKind.Qdrant, "docs", IdKinds.Unsigned | IdKinds.Uuid,
            [new VectorField("", VectorKind.Dense, 16, DistanceMetric.Dot), new VectorField("bm25", VectorKind.Sparse, null, DistanceMetric.Dot)], false, "payload");
        var rng = new Random(16);
        var fixedIds = new PointId[] { 0UL, ulong.MaxValue, (ulong)long.MaxValue + 1, Guid.Parse("0F8FAD5B-D9CB-469F-A165-70867728950E") };
        var records = Enumerable.Range(0, 1200).Select(i =>
        {
            var id = i < fixedIds.Length ? fixedIds[i] : i % 3 == 0 ? (PointId)Guid.NewGuid() : (PointId)(ulong)(rng.NextInt64() & long.MaxValue);
            var v = new Dictionary<string, VectorValue> { [""] = new DenseVector(PineconeSinkKit.RandomVector(rng, 16)) };
            if (i % 4 != 0)
            {
                var idx = Enumerable.Range(0, 1 + i % 9).Select(k => (uint)(k * 1013 + i % 7)).ToArray();
                v["bm25"] = new SparseVector(idx, idx.Select(_ => (float)rng.NextDouble() + 0.001f).ToArray());
            }
            var payload = i % 10 == 0 ? null
                : JsonPayload.FromString(Inv($$"""{"title":"doc {{i}} ü","n":{{i}},"f":{{i * 0.25}},"tags":["a","b"],"ok":{{(i % 2 == 0 ? "true" : "false")}}}"""));
            return new VectorRecord(id, v, payload) { Schema = schema };
        }).ToList();
        await using (var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "docs", BatchSize = 500 }))
        {
            foreach (var r in records) await w.WriteAsync(r);
            await w.FlushAsync();
        }

        await using var kit = await PineconeTestKit.StartAsync(checkContracts: true);
        var index = await kit.StandIn.CreateIndexAsync("from-pg", 16, "dotproduct");
        await using var sink = kit.Sink("from-pg", ns: "pg", batchSize: 300);
        var summary = await sink.WriteThroughRunnerAsync(new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = "docs", PageSize = 250 }).ReadAsync());

        Assert.Equal((1200L, 0L, 4), (summary.RecordsWritten, summary.RecordsRejected, summary.BatchesCommitted));
        Assert.Equal(("", "bm25"), (sink.Plan!.DenseVector, sink.Plan.SparseVector));
        Assert.Equal(["pg"], index.Namespaces());
        Assert.NotNull(index.Get("pg", "18446744073709551615"));
        Assert.NotNull(index.Get("pg", "0f8fad5b-d9cb-469f-a165-70867728950e"));
        var back = await PineconeTestKit.ReadAllAsync(kit.Source("from-pg"));
        RecordAssert.SameSet(records.Select(r => PineconeSinkKit.AsPinecone(r, "pg", sparse: "bm25")), back);
        kit.AssertConforms(1 + 4); // describe, 4 upserts of 300 (and the read back)
    }

    /// <summary>Three namespaces (the default one too) of records whose ids need escaping everywhere they travel.</summary>
    private static async Task<PineconeStandInIndex> SeedSourceAsync(PineconeTestKit kit, int perNamespace, bool distinctIds)
    {
        var index = await kit.StandIn.CreateIndexAsync("src", 8, "dotproduct");
        string[] odd = ["a b", "#1&x/y", "ünï", "日本語", "q?x=1%20&y=2", "plus+sign", "slash/", "emoji 😀"];
        var n = 0;
        foreach (var ns in new[] { "", "prod", "team/ü #1" })
        {
            var tag = distinctIds ? $"{ns.Length}:" : "";
            foreach (var id in odd.Concat(Enumerable.Range(0, perNamespace).Select(i => $"doc-{i:D4}")))
            {
                n++;
                var sparse = n % 3 == 0 ? null : Enumerable.Range(0, 1 + n % 5).Select(k => (uint)(k * 31 + n % 11)).ToArray();
                index.Seed(ns, tag + id, Nasty(8, n), sparse, sparse?.Select((_, k) => Nasty(8, n + k)[7] is var f && f != 0 ? f : 0.5f).ToArray(),
                    n % 4 == 0 ? null : Inv($$"""{"genre":"drama","year":2020,"rating":{{n * 0.5}},"tags":["x","ÿ"],"ok":true,"name":"n°{{n}}"}"""));
            }
        }
        return index;
    }

    [Fact]
    public async Task Copying_an_index_keeps_every_namespace_id_vector_and_metadata()
    {
        await using var kit = await PineconeTestKit.StartAsync(checkContracts: true);
        await SeedSourceAsync(kit, perNamespace: 240, distinctIds: false);
        var target = await kit.StandIn.CreateIndexAsync("dst", 8, "dotproduct");
        var source = await PineconeTestKit.ReadAllAsync(kit.Source("src"));
        Assert.Equal(3 * 248, source.Count);

        await using var sink = kit.Sink("dst");
        await sink.WriteThroughRunnerAsync(kit.Source("src").ReadAsync());

        Assert.Equal(["", "prod", "team/ü #1"], target.Namespaces());
        Assert.Equal(3, sink.Summary.BatchesCommitted); // one request per namespace: a change of namespace sends the open one
        RecordAssert.SameSet(source, await PineconeTestKit.ReadAllAsync(kit.Source("dst")), sparseZerosDropped: false);
        kit.AssertConforms(3 * 8 + 3); // three reads of three namespaces, 3 upserts
    }

    [Theory]
    [InlineData("merged")]
    [InlineData("")]
    public async Task A_given_namespace_takes_the_records_of_every_source_namespace(string into)
    {
        await using var kit = await PineconeTestKit.StartAsync(checkContracts: true);
        await SeedSourceAsync(kit, perNamespace: 20, distinctIds: true);
        var target = await kit.StandIn.CreateIndexAsync("dst", 8, "dotproduct");
        var source = await PineconeTestKit.ReadAllAsync(kit.Source("src"));

        await using var sink = kit.Sink("dst", ns: into, batchSize: 25);
        await sink.WriteThroughRunnerAsync(kit.Source("src").ReadAsync());

        Assert.Equal([into], target.Namespaces());
        Assert.Equal(source.Count, target.Records(into).Count);
        RecordAssert.SameSet(source.Select(r => PineconeSinkKit.AsPinecone(r, into)), await PineconeTestKit.ReadAllAsync(kit.Source("dst")), sparseZerosDropped: false);
        kit.AssertConforms(4 + 2 * (1 + 3 * 2)); // 4 upserts of 25; two reads of src: stats, a list and a fetch per namespace
    }

    [Fact]
    public async Task A_qdrant_collection_arrives_with_decimal_and_uuid_ids_and_its_flat_payloads()
    {
        var name = QdrantTestKit.NewCollectionName();
        qdrant.Server.CreateCollection(name, new QdrantStandInVector("", 12, "Cosine"));
        var rng = new Random(12);
        var ids = new List<PointId> { 0UL, 1UL, (ulong)long.MaxValue, ulong.MaxValue, Guid.Parse("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11") };
        while (ids.Count < 700) ids.Add(ids.Count % 2 == 0 ? (PointId)Guid.NewGuid() : (PointId)(ulong)rng.NextInt64());
        var records = ids.Distinct().Select((id, i) => QdrantTestKit.Dense(id, PineconeSinkKit.RandomVector(rng, 12), i switch
        {
            10 => """{"meta":{"nested":1}}""",
            11 => """{"gone":null,"x":"y"}""",
            _ when i % 5 == 0 => "{}", // Qdrant answers {} for a point without payload
            _ => Inv($$"""{"title":"point {{i}}","n":{{i}},"score":{{i * 0.5}},"tags":["x","y"],"ok":{{(i % 2 == 0 ? "true" : "false")}}}"""),
        })).ToList();
        qdrant.Server.Seed(name, records);

        await using var kit = await PineconeTestKit.StartAsync(checkContracts: true);
        var index = await kit.StandIn.CreateIndexAsync("from-qdrant", 12, "cosine");
        await using var sink = kit.Sink("from-qdrant", batchSize: 200);
        var rejected = new List<RecordRejectedException>();
        using var client = qdrant.Client();
        var summary = await sink.WriteThroughRunnerAsync(new QdrantSource(client).ReadAsync(new QdrantReadOptions(name) { PageSize = 128 }), rejected.Add);

        Assert.Equal([PineconeErrorIds.MetadataNested, PineconeErrorIds.MetadataNull], rejected.OrderBy(e => e.Record.Id).Select(e => e.ErrorId).OrderBy(e => e));
        Assert.All(rejected, e => Assert.Contains(e.Record.Id.ToString(), e.Message));
        Assert.Equal((long)records.Count - 2, summary.RecordsWritten);
        Assert.Equal(0, kit.Logs.Count(3013)); // Cosine into cosine: no metric warning
        Assert.NotNull(index.Get("", "18446744073709551615"));
        Assert.NotNull(index.Get("", "9223372036854775807"));
        Assert.NotNull(index.Get("", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
        var keep = records.Where(r => !rejected.Any(e => e.Record.Id == r.Id)).Select(r => PineconeSinkKit.AsPinecone(r, ""));
        RecordAssert.SameSet(keep, await PineconeTestKit.ReadAllAsync(kit.Source("from-qdrant")));
        kit.AssertConforms(1 + 4); // describe, 4 upserts of 200 (and the read back)
        qdrant.AssertConforms(_qdrantCheckedBefore, 1 + 6); // describe, 6 scroll pages of 128
    }
}
