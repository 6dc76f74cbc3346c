using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using static VecMigrate.Engine.Tests.Postgres.PgReadBack;
using static VecMigrate.Engine.Tests.Postgres.PgWriteModesTests;

namespace VecMigrate.Engine.Tests.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PgVectorSourceTests(PostgresFixture pg)
{
    private static async Task WriteAsync(string cs, string table, IEnumerable<VectorRecord> records)
    {
        await using var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = table, BatchSize = 50 });
        foreach (var r in records) await w.WriteAsync(r);
        await w.FlushAsync();
    }

    private static async Task<List<VectorRecord>> ReadAllAsync(PgReadOptions o)
    {
        var list = new List<VectorRecord>();
        await foreach (var r in new PgVectorSource(o).ReadAsync()) list.Add(r);
        return list;
    }

    [Fact]
    public async Task A_qdrant_shaped_table_reads_back_as_the_records_that_went_in()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = new SourceSchema(SourceKind.Qdrant, "docs", IdKinds.Unsigned | IdKinds.Uuid,
        [
            new VectorField("text", VectorKind.Dense, 3, DistanceMetric.Cosine),
            new VectorField("embedding", VectorKind.Dense, 2, DistanceMetric.Dot), // a named vector that happens to be called embedding
            new VectorField("bm25", VectorKind.Sparse, null, DistanceMetric.Dot),
            new VectorField("colbert", VectorKind.Multi, 2, DistanceMetric.Dot),
        ], false, "payload");
        var rng = new Random(7);
        var records = Enumerable.Range(0, 333).Select(i =>
        {
            PointId id = i % 3 == 0 ? Guid.NewGuid() : (ulong)i * 55_000_000_000_000_000UL % ulong.MaxValue;
            var v = new Dictionary<string, VectorValue>
            {
                ["text"] = new DenseVector(RandomVector(rng, 3)),
                ["bm25"] = new SparseVector([(uint)i, (uint)i + 10], [1.5f, (float)rng.NextDouble()]),
            };
            if (i % 2 == 0) v["embedding"] = new DenseVector(RandomVector(rng, 2));
            if (i % 5 == 0) v["colbert"] = new MultiVector([RandomVector(rng, 2), RandomVector(rng, 2)]);
            return new VectorRecord(id, v, i % 7 == 0 ? null : JsonPayload.FromString($$$"""{"i":{{{i}}},"tags":["a","b"],"n":{"x":1.5}}""")) { Schema = schema };
        }).ToList();
        await WriteAsync(cs, "docs", records);

        var back = await ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "docs", PageSize = 40 });
        RecordAssert.SameSet(records, back);
        var s = back[0].Schema!;
        Assert.Equal(IdKinds.Unsigned | IdKinds.Uuid, s.IdKinds);
        Assert.Equal(DistanceMetric.Cosine, s.FindVector("text")!.Metric);
        Assert.Equal(VectorKind.Multi, s.FindVector("colbert")!.Kind);
    }

    [Fact]
    public async Task A_pinecone_shaped_table_keeps_namespaces_and_string_ids()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = new SourceSchema(SourceKind.Pinecone, "idx", IdKinds.String,
            [new VectorField("", VectorKind.Dense, 2, DistanceMetric.Cosine), new VectorField("sparse", VectorKind.Sparse, null, DistanceMetric.Dot)], true, "metadata");
        var records = new[] { "", "prod", "staging" }.SelectMany(ns => new[] { "a b", "#1&x/y", "ünï", "42" }.Select(id =>
            new VectorRecord(id, new Dictionary<string, VectorValue> { [""] = new DenseVector([1, ns.Length]), ["sparse"] = new SparseVector([3], [0.25f]) },
                JsonPayload.FromString("""{"genre":"drama","year":2020,"ok":true,"tags":["x"]}""")) { Namespace = ns, Schema = schema })).ToList();
        await WriteAsync(cs, "idx", records);
        var back = await ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "idx", PageSize = 5 });
        RecordAssert.SameSet(records, back);
        Assert.All(back, r => Assert.Equal(PointIdKind.String, r.Id.Kind));
        Assert.True(back[0].Schema!.HasNamespaces);
        Assert.Equal("metadata", back[0].Schema!.PayloadName);
    }

    [Fact]
    public async Task Keyset_reading_resumes_exactly_after_a_position()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 1));
        await WriteAsync(cs, "k", Enumerable.Range(0, 100).Select(i => Dense((ulong)i * 3, [i], schema: schema)));
        var all = await ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "k", PageSize = 9 });
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (ulong)i * 3), all.Select(r => r.Id.AsUnsigned));
        var rest = await ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "k", PageSize = 9, StartAfter = all[41].Position });
        Assert.Equal(all.Skip(42).Select(r => r.Id), rest.Select(r => r.Id));
    }

    [Fact]
    public async Task Any_table_with_a_vector_column_reads_with_its_other_columns_as_payload()
    {
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, """
            CREATE TABLE items (item_id bigserial PRIMARY KEY, title text, year int, tags text[], price numeric, emb vector(3) NOT NULL, extra jsonb);
            INSERT INTO items (title, year, tags, price, emb, extra) VALUES
              ('one', 2001, '{a,b}', 9.99, '[1,2,3]', '{"k":1}'), ('two', NULL, NULL, NULL, '[4,5,6]', NULL), ('three', 2003, '{}', 1e20, '[7,8,9]', '[]');
            CREATE INDEX ON items USING hnsw (emb vector_l2_ops);
            """);
        var back = await ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "items", Where = "year IS NOT NULL" });
        Assert.Equal(new ulong[] { 1, 3 }, back.Select(r => r.Id.AsUnsigned));
        Assert.Equal(new float[] { 1, 2, 3 }, back[0].Embedding);
        Assert.True(JsonPayload.DeepEquals("""{"title":"one","year":2001,"tags":["a","b"],"price":9.99,"extra":{"k":1}}"""u8, back[0].Payload!.Utf8Json.Span), back[0].Payload!.ToString());
        Assert.Equal(DistanceMetric.Euclid, back[0].Schema!.FindVector("")!.Metric);

        var chosen = await ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "items", Columns = ["title"], PageSize = 1 });
        Assert.Equal(3, chosen.Count);
        Assert.Equal("""{"title": "two"}""", chosen[1].Payload!.ToString());
    }

    [Fact]
    public async Task Halfvec_halfvec_arrays_and_sparsevec_read_through_pgvector()
    {
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, """
            CREATE TABLE h (id bigint PRIMARY KEY, half halfvec(3), rows halfvec(2)[], sparse sparsevec(100));
            INSERT INTO h VALUES
              (1, '[0.5,-2,65504]', ARRAY['[1,2]'::halfvec(2), '[0.25,-0.125]'::halfvec(2)], '{7:0.5,99:-1}/100'),
              (2, NULL, NULL, NULL);
            """);
        var back = await ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "h" });
        Assert.Equal(2, back.Count);
        Assert.Equal(new[] { 0.5f, -2f, 65504f }, ((DenseVector)back[0].Vectors["half"]).Values);
        var rows = (MultiVector)back[0].Vectors["rows"];
        Assert.Equal(new[] { 1f, 2f }, rows.Vectors[0]);
        Assert.Equal(new[] { 0.25f, -0.125f }, rows.Vectors[1]);
        var sparse = (SparseVector)back[0].Vectors["sparse"];
        Assert.Equal(new uint[] { 6, 98 }, sparse.Indices); // sparsevec's text form counts from 1
        Assert.Equal(new[] { 0.5f, -1f }, sparse.Values);
        Assert.Empty(back[1].Vectors);

        await ExecAsync(cs, "INSERT INTO h VALUES (3, NULL, ARRAY['[1,2]'::halfvec(2), NULL], NULL)");
        var ex = await Assert.ThrowsAsync<FormatException>(() => ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "h", VectorColumns = ["rows"] }));
        Assert.Contains("NULL element", ex.Message);
    }

    [Fact]
    public async Task Tables_that_cannot_be_read_say_why()
    {
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, "CREATE TABLE nokey (id int, emb vector(2)); CREATE TABLE neg (id int PRIMARY KEY, emb vector(2)); INSERT INTO neg VALUES (-1, '[1,1]')");
        var e1 = await Assert.ThrowsAsync<VecMigrateException>(() => ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "missing" }));
        Assert.Equal("PgTableNotFound", e1.ErrorId);
        // A table without a key is read all the same (by row location; only Milvus Auto ID takes such rows, MilvusTests).
        await ExecAsync(cs, "INSERT INTO nokey VALUES (7, '[1,2]')");
        var loose = Assert.Single(await ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "nokey" }));
        Assert.True(loose.Schema!.RowLocations);
        Assert.Equal("(0,1)", loose.Id.ToString());
        var e3 = await Assert.ThrowsAsync<VecMigrateException>(() => ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "nokey", KeyColumn = "id" }));
        Assert.Equal("PgKeyNotUnique", e3.ErrorId);
        var e4 = await Assert.ThrowsAsync<VecMigrateException>(() => ReadAllAsync(new PgReadOptions { ConnectionString = cs, Table = "neg" }));
        Assert.Equal("PgIdNotUnsigned", e4.ErrorId);
        Assert.Contains("id = -1", e4.Message);
    }
}
