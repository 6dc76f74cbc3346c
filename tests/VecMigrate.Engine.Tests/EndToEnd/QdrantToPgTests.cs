using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Qdrant;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.EndToEnd;

/// <summary>Qdrant (stand-in) → real Postgres + pgvector through the engine, compared exactly with the source.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QdrantToPgTests(PostgresFixture pg, QdrantStandInFixture q) : IClassFixture<QdrantStandInFixture>
{
    private readonly QdrantStandInFixture _q = q;


    private async Task<(string Cs, List<VectorRecord> Back, PgWriteSummary Summary)> MigrateAsync(string collection, int pageSize, int batchSize, string table = "t")
    {
        var cs = await pg.NewDatabaseAsync();
        using var client = _q.Client();
        var source = new QdrantSource(client);
        await using var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = table, BatchSize = batchSize });
        var summary = await writer.WriteThroughRunnerAsync(source.ReadAsync(new QdrantReadOptions(collection) { PageSize = pageSize }));
        var back = new List<VectorRecord>();
        await foreach (var r in new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = table, PageSize = 777 }).ReadAsync()) back.Add(r);
        return (cs, back, summary);
    }

    [Fact]
    public async Task Ten_thousand_1024_dimension_points_with_extreme_integer_ids_arrive_exactly()
    {
        var name = NewCollectionName();
        _q.Server.CreateCollection(name, new QdrantStandInVector("", 1024, "Cosine"));
        var rng = new Random(1024);
        var ids = new List<ulong> { 0, 1, (ulong)long.MaxValue, (ulong)long.MaxValue + 1, ulong.MaxValue };
        while (ids.Count < 10_000) ids.Add((ulong)rng.NextInt64() * 2 + (ulong)rng.Next(2));
        var records = ids.Distinct().Select((id, i) => Dense(id, RandomVector(rng, 1024),
            $$$"""{"title":"doc {{{i}}}","n":{{{i}}},"f":{{{i * 0.25}}},"tags":["x","y"],"ok":{{{(i % 2 == 0 ? "true" : "false")}}},"none":null,"nested":{"a":[1,{"b":"ü"}]}}""")).ToList();
        _q.Server.Seed(name, records);

        var (cs, back, summary) = await MigrateAsync(name, pageSize: 500, batchSize: 2000);
        Assert.Equal(records.Count, summary.RecordsWritten);
        RecordAssert.SameSet(records, back);
        var cols = await Postgres.PgReadBack.ColumnsAsync(cs, "t");
        Assert.Equal("numeric(20,0)", cols["id"].Type);
        Assert.Equal("vector(1024)", cols["embedding"].Type);
        Assert.True(_q.Server.ScrollRequests >= 20);
    }

    [Fact]
    public async Task Uuid_ids_go_into_a_uuid_column()
    {
        var name = NewCollectionName();
        _q.Server.CreateCollection(name, new QdrantStandInVector("", 8, "Dot"));
        var rng = new Random(2);
        var records = Enumerable.Range(0, 2500).Select(i => Dense(Guid.NewGuid(), RandomVector(rng, 8), i % 3 == 0 ? "{}" : $$"""{"i":{{i}}}""")).ToList();
        _q.Server.Seed(name, records);
        var (cs, back, _) = await MigrateAsync(name, pageSize: 100, batchSize: 300);
        RecordAssert.SameSet(records, back);
        Assert.Equal("uuid", (await Postgres.PgReadBack.ColumnsAsync(cs, "t"))["id"].Type);
    }

    [Fact]
    public async Task A_collection_mixing_integer_and_uuid_ids_keeps_both_kinds_distinct()
    {
        var name = NewCollectionName();
        _q.Server.CreateCollection(name, new QdrantStandInVector("", 4, "Euclid"));
        var rng = new Random(3);
        var records = Enumerable.Range(0, 3000).Select(i => i % 2 == 0
            ? Dense((ulong)i, RandomVector(rng, 4), "{}") // Qdrant answers {} for a point without payload
            : Dense(Uuid((byte)(i % 256), i), RandomVector(rng, 4), "{}")).ToList();
        _q.Server.Seed(name, records);
        var (cs, back, _) = await MigrateAsync(name, pageSize: 128, batchSize: 1000);
        RecordAssert.SameSet(records, back);
        Assert.Equal("text", (await Postgres.PgReadBack.ColumnsAsync(cs, "t"))["id"].Type);
        Assert.Equal(1500, back.Count(r => r.Id.Kind == PointIdKind.Uuid));
    }

    [Fact]
    public async Task Named_dense_sparse_and_multivectors_arrive_exactly_including_points_missing_some()
    {
        var name = NewCollectionName();
        _q.Server.CreateCollection(name,
            [new QdrantStandInVector("text", 16, "Cosine"), new QdrantStandInVector("image", 8, "Euclid"), new QdrantStandInVector("colbert", 4, "Dot", Multivector: true)],
            [new QdrantStandInSparse("bm25", "idf")]);
        var rng = new Random(4);
        var records = Enumerable.Range(0, 10_000).Select(i =>
        {
            var v = new Dictionary<string, VectorValue> { ["text"] = new DenseVector(RandomVector(rng, 16)) };
            if (i % 2 == 0) v["image"] = new DenseVector(RandomVector(rng, 8));
            if (i % 3 == 0) v["colbert"] = new MultiVector(Enumerable.Range(0, 1 + i % 4).Select(_ => RandomVector(rng, 4)).ToArray());
            if (i % 5 != 0)
            {
                var idx = Enumerable.Range(0, 1 + i % 20).Select(k => (uint)(k * 997 + i % 13)).ToArray();
                v["bm25"] = new SparseVector(idx, idx.Select(_ => (float)rng.NextDouble() + 0.01f).ToArray());
            }
            return new VectorRecord((ulong)i, v, JsonPayload.FromString($$"""{"i":{{i}}}"""));
        }).ToList();
        _q.Server.Seed(name, records);

        var (cs, back, _) = await MigrateAsync(name, pageSize: 333, batchSize: 1500);
        RecordAssert.SameSet(records, back);
        var cols = await Postgres.PgReadBack.ColumnsAsync(cs, "t");
        Assert.Equal("vector(16)", cols["text"].Type);
        Assert.Equal("vector(4)[]", cols["colbert"].Type);
        Assert.Equal("sparsevec", cols["bm25"].Type);
        Assert.Equal(DistanceMetric.Euclid, back[0].Schema!.FindVector("image")!.Metric);
    }

    [Fact]
    public async Task A_missing_collection_fails_before_any_table_is_made()
    {
        var cs = await pg.NewDatabaseAsync();
        using var client = _q.Client();
        await using var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "never" });
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => writer.WriteThroughRunnerAsync(new QdrantSource(client).ReadAsync(new QdrantReadOptions("no_such_collection"))));
        Assert.Equal("QdrantCollectionNotFound", ex.ErrorId);
        Assert.Empty(await Postgres.PgReadBack.ColumnsAsync(cs, "never"));
    }
}
