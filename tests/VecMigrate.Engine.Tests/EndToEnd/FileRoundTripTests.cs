using System.Text.Json.Nodes;
using VecMigrate.Engine.Files;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Files;
using VecMigrate.Engine.Tests.Pinecone;
using VecMigrate.Engine.Tests.Qdrant;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.EndToEnd;

/// <summary>
/// Systems → file → systems, through the stand-ins and real Postgres: what arrives after the file is exactly what a
/// direct copy would have brought, target shape included.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FileRoundTripTests(PostgresFixture pg, QdrantStandInFixture q) : IClassFixture<QdrantStandInFixture>, IDisposable
{
    private readonly string _dir = FileTestKit.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Qdrant_named_sparse_and_multivectors_with_u64_and_uuid_ids_go_through_parquet_into_pgvector_exactly()
    {
        var name = NewCollectionName();
        q.Server.CreateCollection(name,
            [new QdrantStandInVector("text", 16, "Cosine"), new QdrantStandInVector("image", 8, "Euclid"), new QdrantStandInVector("colbert", 4, "Dot", Multivector: true)],
            [new QdrantStandInSparse("bm25", "idf")]);
        var rng = new Random(16);
        var records = Enumerable.Range(0, 5000).Select(i =>
        {
            var v = new Dictionary<string, VectorValue> { ["text"] = new DenseVector(RandomVector(rng, 16)) };
            if (i % 2 == 0) v["image"] = new DenseVector(RandomVector(rng, 8));
            if (i % 3 == 0) v["colbert"] = new MultiVector(Enumerable.Range(0, 1 + i % 4).Select(_ => RandomVector(rng, 4)).ToArray());
            if (i % 5 != 0)
            {
                var idx = Enumerable.Range(0, 1 + i % 20).Select(k => (uint)(k * 997 + i % 13)).ToArray();
                v["bm25"] = new SparseVector(idx, idx.Select(_ => (float)rng.NextDouble() + 0.01f).ToArray());
            }
            PointId id = i % 2 == 0 ? (i == 0 ? ulong.MaxValue : (ulong)i * 7919) : Uuid((byte)(i % 256), i);
            return new VectorRecord(id, v, JsonPayload.FromString($$"""{"i":{{i}},"big":{{9007199254740993L + i}},"t":"ünï {{i}}"}"""));
        }).ToList();
        q.Server.Seed(name, records);

        var path = Path.Combine(_dir, "docs.parquet");
        using var client = q.Client();
        await using (var sink = new FileSink(new FileSinkOptions(path) { BatchSize = 700 }))
        {
            var exported = await Migration.RunAsync(QdrantSource.AsMigrationSource(client, new QdrantReadOptions(name) { PageSize = 333 }), sink);
            Assert.Equal(records.Count, exported.RecordsWritten);
        }
        var info = await VectorFileInfo.ReadAsync(path);
        Assert.Equal("text dense(16) Cosine, image dense(8) Euclid, colbert multi(4) Dot, bm25 sparse", info.VectorSpaces.Replace(" Unknown", ""));
        Assert.Equal(["u64", "uuid"], info.IdKinds);

        var cs = await pg.NewDatabaseAsync();
        var reader = await FileRecordReader.OpenAsync(path);
        await using (var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "docs", BatchSize = 1200 }))
        {
            await writer.WriteThroughRunnerAsync(reader.ReadAsync());
        }
        var back = new List<VectorRecord>();
        await foreach (var r in new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = "docs", PageSize = 999 }).ReadAsync()) back.Add(r);
        RecordAssert.SameSet(records, back);
        var cols = await Postgres.PgReadBack.ColumnsAsync(cs, "docs");
        Assert.Equal("text", cols["id"].Type); // u64 and UUID ids together, as a direct copy makes them
        Assert.Equal("vector(16)", cols["text"].Type);
        Assert.Equal("vector(4)[]", cols["colbert"].Type);
        Assert.Equal("sparsevec", cols["bm25"].Type);
        Assert.Equal(DistanceMetric.Euclid, back[0].Schema!.FindVector("image")!.Metric);
    }

    /// <summary>What Qdrant holds for a Pinecone record copied directly (see PineconeToQdrantRoundTripTests).</summary>
    private static VectorRecord Expected(string ns, string id, float[] values, uint[]? indices, float[]? sparseValues, string? metadata)
    {
        var vectors = new Dictionary<string, VectorValue> { [""] = new DenseVector(values) };
        if (indices is not null) vectors["sparse"] = new SparseVector(indices, sparseValues!);
        var payload = metadata is null ? new JsonObject() : JsonNode.Parse(metadata)!.AsObject();
        payload["original_id"] = id;
        payload["namespace"] = ns;
        return new VectorRecord(QdrantPointIds.ToQdrant(id, ns), vectors, JsonPayload.FromString(payload.ToJsonString()));
    }

    [Fact]
    public async Task Every_namespace_of_a_pinecone_index_goes_through_jsonl_gz_into_qdrant_exactly()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("hybrid", 8, "dotproduct");
        var rng = new Random(9);
        var expected = new List<VectorRecord>();
        foreach (var ns in new[] { "", "alpha", "beta" })
        {
            for (var n = 0; n < 150; n++)
            {
                var id = n == 0 ? "ünï #1/x?y=z" : $"{ns}-doc-{n}";
                var values = RandomVector(rng, 8);
                uint[]? idx = n % 3 != 0 ? [(uint)n, (uint)n + 500, 4_000_000_000] : null;
                float[]? sv = idx is null ? null : [0.5f, (float)rng.NextDouble(), -2.25f];
                var metadata = n % 4 == 0 ? null : $$"""{"genre":"drama","year":{{2000 + n}},"score":{{n * 0.125}},"tags":["a","b"]}""";
                index.Seed(ns, id, values, idx, sv, metadata);
                expected.Add(Expected(ns, id, values, idx, sv, metadata));
            }
        }

        var path = Path.Combine(_dir, "movies.jsonl.gz");
        await using (var sink = new FileSink(new FileSinkOptions(path) { BatchSize = 100 }))
        {
            var exported = await Migration.RunAsync(kit.Source("hybrid").AsMigrationSource(), sink, new MigrationOptions { Checkpoint = "mv" });
            Assert.Equal(450, exported.RecordsWritten);
        }
        var info = await VectorFileInfo.ReadAsync(path);
        Assert.Equal(450, info.Records);
        Assert.Equal(SourceKind.Pinecone, info.Source);
        Assert.True(info.HasNamespaces);

        var collection = NewCollectionName();
        using var client = q.Client();
        var reader = await FileRecordReader.OpenAsync(path);
        await using (var sink = new QdrantSink(client, new QdrantSinkOptions(collection) { BatchSize = 64 }))
        {
            Assert.Equal(450, (await sink.WriteThroughRunnerAsync(reader.ReadAsync())).RecordsWritten);
        }
        var back = await QdrantSinkKit.ReadBackAsync(client, collection);
        RecordAssert.SameSet(expected, back, sparseZerosDropped: false);
        var described = await client.GetCollectionAsync(collection);
        Assert.Equal(8, described.Vectors[0].Size);
        Assert.Equal("Dot", described.Vectors[0].DistanceName); // Pinecone's dotproduct, kept in the file
    }
}
