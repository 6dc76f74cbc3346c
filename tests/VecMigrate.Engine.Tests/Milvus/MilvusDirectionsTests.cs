using VecMigrate.Engine.Milvus;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Pinecone;
using VecMigrate.Engine.Tests.Qdrant;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Milvus;

/// <summary>Qdrant → Milvus → Qdrant and Pinecone → Milvus → Pinecone through the stand-ins: what arrives is what was read.</summary>
public sealed class MilvusDirectionsTests(QdrantStandInFixture q) : IClassFixture<QdrantStandInFixture>
{
    [Fact]
    public async Task Qdrant_points_go_to_Milvus_and_back_to_Qdrant_exactly_with_named_vectors_and_payload()
    {
        var schema = new SourceSchema(SourceKind.Qdrant, "src", IdKinds.Unsigned,
            [new VectorField("text", VectorKind.Dense, 6, DistanceMetric.Euclid), new VectorField("image", VectorKind.Dense, 3, DistanceMetric.Dot),
             new VectorField("bm25", VectorKind.Sparse, null, DistanceMetric.Dot)], false, "payload");
        var rng = new Random(11);
        var records = Enumerable.Range(0, 400).Select(i =>
        {
            var v = new Dictionary<string, VectorValue> { ["text"] = new DenseVector(MilvusKit.Vec(rng, 6)), ["image"] = new DenseVector(MilvusKit.Vec(rng, 3)) };
            if (i % 2 == 0) v["bm25"] = new SparseVector([(uint)i, (uint)i + 7], [0.25f, 1 + i]);
            return new VectorRecord((ulong)(i * 1_000_003), v, JsonPayload.FromString($$$"""{"city":"Oslo {{{i}}}","n":{{{i}}},"f":{{{i}}}.5,"tags":["a",{"b":[1,2.5]}],"ok":{{{(i % 2 == 0 ? "true" : "false")}}}}""")) { Schema = schema };
        }).ToList();
        var qdrant = q.Client();
        var from = QdrantTestKit.NewCollectionName();
        await new QdrantSink(qdrant, new QdrantSinkOptions(from)).WriteThroughRunnerAsync(records.ToAsyncEnumerable());
        var fromQdrant = await QdrantSinkKit.ReadBackAsync(qdrant, from);

        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var milvus = MilvusKit.Client(m, t);
        await using (var sink = new MilvusSink(milvus, new MilvusSinkOptions("fromq") { BatchSize = 128 }))
        {
            var s = await sink.WriteThroughRunnerAsync(new QdrantSource(qdrant).ReadAsync(new QdrantReadOptions(from) { PageSize = 50 }));
            Assert.Equal((400L, 0L), (s.RecordsWritten, s.RecordsRejected));
        }
        var c = m.Collections["fromq"];
        Assert.Equal(("L2", "IP", "IP"), (c.Metrics["text"], c.Metrics["image"], c.Metrics["bm25"])); // Euclid → L2, Dot → IP
        var fromMilvus = await MilvusKit.ReadAllAsync(milvus, "fromq", page: 64);
        RecordAssert.SameSet(fromQdrant, fromMilvus);

        var back = QdrantTestKit.NewCollectionName();
        await new QdrantSink(qdrant, new QdrantSinkOptions(back)).WriteThroughRunnerAsync(new MilvusSource(milvus).ReadAsync(new MilvusReadOptions("fromq") { PageSize = 99 }));
        RecordAssert.SameSet(fromQdrant, await QdrantSinkKit.ReadBackAsync(qdrant, back));
    }

    [Fact]
    public async Task Pinecone_records_go_to_Milvus_and_back_to_Pinecone_exactly_with_their_namespaces()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        await kit.StandIn.CreateIndexAsync("src", 5, "euclidean");
        var rng = new Random(5);
        var records = Enumerable.Range(0, 300).Select(i => new VectorRecord($"doc-{i:D4}#ü",
            new Dictionary<string, VectorValue> { [""] = new DenseVector(MilvusKit.Vec(rng, 5)) },
            JsonPayload.FromString($$$"""{"genre":"g{{{i % 7}}}","year":{{{1990 + i}}},"score":{{{i}}}.25,"tags":["x","y"]}""")) { Namespace = i % 3 == 0 ? "" : "ns" + (i % 3) }).ToList();
        await new PineconeSink(kit.Client, new PineconeSinkOptions { IndexName = "src" }).WriteThroughRunnerAsync(records.ToAsyncEnumerable());
        var fromPinecone = await PineconeTestKit.ReadAllAsync(kit.Source("src"));
        Assert.Equal(300, fromPinecone.Count);

        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var milvus = MilvusKit.Client(m, t);
        await using (var sink = new MilvusSink(milvus, new MilvusSinkOptions("fromp")))
            await sink.WriteThroughRunnerAsync(kit.Source("src").ReadAsync());
        Assert.Equal("VarChar", m.Collections["fromp"].Pk.DataType);
        Assert.Equal("L2", m.Collections["fromp"].Metrics["vector"]);
        var fromMilvus = await MilvusKit.ReadAllAsync(milvus, "fromp", page: 40);
        RecordAssert.SameSet(fromPinecone, fromMilvus);

        await kit.StandIn.CreateIndexAsync("back", 5, "euclidean");
        await new PineconeSink(kit.Client, new PineconeSinkOptions { IndexName = "back" }).WriteThroughRunnerAsync(new MilvusSource(milvus).ReadAsync(new MilvusReadOptions("fromp")));
        RecordAssert.SameSet(fromPinecone, await PineconeTestKit.ReadAllAsync(kit.Source("back")));
    }
}
