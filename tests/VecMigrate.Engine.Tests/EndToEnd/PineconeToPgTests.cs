using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Pinecone;
using VecMigrate.Testing;

namespace VecMigrate.Engine.Tests.EndToEnd;

/// <summary>Pinecone (stand-in) → real Postgres + pgvector through the engine, compared exactly with the source.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PineconeToPgTests(PostgresFixture pg)
{
    private static readonly string[] Awkward = ["doc 1", "a#b", "x&y=z", "path/to/doc", "ünïcødé-✓", "plus+sign", "pct%20", "q?x", "emoji-😀", "42"];

    [Fact]
    public async Task Ten_thousand_vectors_over_three_namespaces_arrive_exactly_with_sparse_values_and_metadata()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("products", 64, "dotproduct");
        var rng = new Random(64);
        var expected = new List<VectorRecord>();
        string[] namespaces = ["", "prod", "staging eu"];
        for (var i = 0; i < 10_000; i++)
        {
            var ns = namespaces[i % 3];
            var id = i < Awkward.Length * 3 ? Awkward[i / 3] : $"item-{i:D6}";
            var values = Enumerable.Range(0, 64).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            uint[]? si = null;
            float[]? sv = null;
            if (i % 4 != 0)
            {
                si = Enumerable.Range(0, 1 + i % 7).Select(k => (uint)(k * 1000 + i % 97)).ToArray();
                sv = si.Select(_ => (float)rng.NextDouble() + 0.001f).ToArray();
            }
            var meta = i % 10 == 0 ? null
                : $$$"""{"genre":"g{{{i % 5}}}","year":{{{1990 + i % 30}}},"price":{{{i * 0.01:0.00}}},"in_stock":{{{(i % 2 == 0 ? "true" : "false")}}},"tags":["a","b{{{i % 3}}}"]}""";
            index.Seed(ns, id, values, si, sv, metadataJson: meta);
            var vectors = new Dictionary<string, VectorValue> { [""] = new DenseVector(values) };
            if (si != null) vectors["sparse"] = new SparseVector(si, sv!);
            expected.Add(new VectorRecord(id, vectors, meta is null ? null : JsonPayload.FromString(meta)) { Namespace = ns });
        }

        var cs = await pg.NewDatabaseAsync();
        await using (var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "products", BatchSize = 1000 }))
        {
            var summary = await writer.WriteThroughRunnerAsync(kit.Source("products").ReadAsync(new PineconeReadOptions()));
            Assert.Equal(10_000, summary.RecordsWritten);
        }

        var back = new List<VectorRecord>();
        var digest = new VectorDigest();
        await foreach (var r in new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = "products" }).ReadAsync())
        {
            back.Add(r);
            digest.Add(r);
        }
        RecordAssert.SameSet(expected, back);
        var source = new VectorDigest();
        foreach (var r in expected) source.Add(r);
        Assert.True(VectorDigest.Compare(source, digest).Equal);

        var cols = await Postgres.PgReadBack.ColumnsAsync(cs, "products");
        Assert.Equal("text", cols["id"].Type);
        Assert.Equal("text", cols["namespace"].Type);
        Assert.Equal("vector(64)", cols["embedding"].Type);
        Assert.Equal("sparsevec", cols["sparse"].Type);
        Assert.Equal("jsonb", cols["metadata"].Type);
        Assert.Equal(3, back.Count(r => r.Id == PointId.FromString("doc 1")));
    }

    [Fact]
    public async Task A_sparse_only_index_becomes_a_table_with_only_a_sparse_column()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("bm25", null, "dotproduct");
        var expected = new List<VectorRecord>();
        for (var i = 0; i < 500; i++)
        {
            uint[] si = [(uint)i, (uint)(i + 30_000)];
            float[] sv = [1.5f, i + 0.25f];
            index.Seed("", $"s{i}", null, si, sv, metadataJson: """{"k":"v"}""");
            expected.Add(new VectorRecord($"s{i}", new Dictionary<string, VectorValue> { ["sparse"] = new SparseVector(si, sv) }, JsonPayload.FromString("""{"k":"v"}""")) { Namespace = "" });
        }
        var cs = await pg.NewDatabaseAsync();
        await using (var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "bm25", SparseDimension = 100_000 }))
        {
            await writer.WriteThroughRunnerAsync(kit.Source("bm25").ReadAsync(new PineconeReadOptions()));
        }
        var back = new List<VectorRecord>();
        await foreach (var r in new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = "bm25" }).ReadAsync()) back.Add(r);
        RecordAssert.SameSet(expected, back);
        var cols = await Postgres.PgReadBack.ColumnsAsync(cs, "bm25");
        Assert.False(cols.ContainsKey("embedding"));
        Assert.Equal("sparsevec(100000)", cols["sparse"].Type);
    }
}
