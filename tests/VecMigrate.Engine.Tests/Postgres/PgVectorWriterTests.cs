using System.Text.Json;
using Npgsql;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using static VecMigrate.Engine.Tests.Postgres.PgReadBack;

namespace VecMigrate.Engine.Tests.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PgVectorWriterTests(PostgresFixture pg)
{
    private static async Task<PgWriteSummary> WriteAsync(string cs, string table, IEnumerable<VectorRecord> records,
        List<RecordRejectedException>? rejected = null, int batchSize = 100, PgIdType? idType = null, int? sparseDim = null)
    {
        await using var w = new PgVectorWriter(new PgWriteOptions
        {
            ConnectionString = cs, Table = table, BatchSize = batchSize, IdType = idType, SparseDimension = sparseDim,
        });
        foreach (var r in records)
        {
            try { await w.WriteAsync(r); }
            catch (RecordRejectedException ex) when (rejected != null) { rejected.Add(ex); }
        }
        await w.FlushAsync();
        return w.Summary;
    }

    [Fact]
    public async Task Unsigned_ids_keep_their_full_range_in_numeric_20_0()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 3, DistanceMetric.Cosine));
        ulong[] ids = [0, 1, 9999, 10000, 123456789012, (ulong)long.MaxValue, (ulong)long.MaxValue + 1, ulong.MaxValue - 1, ulong.MaxValue];
        await WriteAsync(cs, "docs", ids.Select(i => Dense(i, [1, 2, 3], schema: schema)));

        var cols = await ColumnsAsync(cs, "docs");
        Assert.Equal("numeric(20,0)", cols["id"].Type);
        Assert.Equal("vector(3)", cols["embedding"].Type);
        Assert.Equal("jsonb", cols["payload"].Type);
        var rows = await RowsAsync(cs, "docs", [("embedding", "vector_send")]);
        Assert.Equal(ids.Select(i => i.ToString()).Order(), rows.Select(r => r.Id).Order());
    }

    [Fact]
    public async Task Uuid_ids_go_into_a_uuid_column_and_mixed_ids_into_text_that_keeps_them_distinct()
    {
        var cs = await pg.NewDatabaseAsync();
        var g = Guid.Parse("0b9e4a3c-1f2d-4e5f-8a7b-6c5d4e3f2a1b");
        var uuidSchema = Schema(IdKinds.Uuid, new VectorField("", VectorKind.Dense, 2));
        await WriteAsync(cs, "u", [Dense(g, [1, 2], schema: uuidSchema)]);
        Assert.Equal("uuid", (await ColumnsAsync(cs, "u"))["id"].Type);
        Assert.Equal(g.ToString(), (await RowsAsync(cs, "u", [])).Single().Id);

        var mixed = Schema(IdKinds.Unsigned | IdKinds.Uuid, new VectorField("", VectorKind.Dense, 2));
        await WriteAsync(cs, "m", [Dense(42UL, [1, 2], schema: mixed), Dense(g, [3, 4], schema: mixed), Dense(ulong.MaxValue, [5, 6], schema: mixed)]);
        Assert.Equal("text", (await ColumnsAsync(cs, "m"))["id"].Type);
        Assert.Equal(new[] { "0b9e4a3c-1f2d-4e5f-8a7b-6c5d4e3f2a1b", "18446744073709551615", "42" }, (await RowsAsync(cs, "m", [])).Select(r => r.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Every_vector_shape_round_trips_bit_for_bit()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned,
            new VectorField("text", VectorKind.Dense, 4, DistanceMetric.Cosine),
            new VectorField("image", VectorKind.Dense, 2, DistanceMetric.Euclid),
            new VectorField("keywords", VectorKind.Sparse, null, DistanceMetric.Dot),
            new VectorField("colbert", VectorKind.Multi, 3, DistanceMetric.Dot));
        float[] tricky = [float.Epsilon, -0.0f, float.MaxValue, 1.0000001f];
        var full = new VectorRecord(1UL, new Dictionary<string, VectorValue>
        {
            ["text"] = new DenseVector(tricky),
            ["image"] = new DenseVector([float.MinValue, 3.4028235e-38f]),
            ["keywords"] = new SparseVector([7, 3, 4_000_000], [0.5f, -1.25f, 1e-30f]),
            ["colbert"] = new MultiVector([[1, 2, 3], [4, 5, 6.000001f]]),
        }, JsonPayload.FromString("""{"a":1}""")) { Schema = schema };
        // A point without some named vectors (Qdrant allows it) gets NULLs there.
        var partial = new VectorRecord(2UL, new Dictionary<string, VectorValue>
        {
            ["image"] = new DenseVector([1, 2]),
            ["colbert"] = new MultiVector([]),
        }, null) { Schema = schema };
        await WriteAsync(cs, "shapes", [full, partial]);

        var cols = await ColumnsAsync(cs, "shapes");
        Assert.Equal("vector(4)", cols["text"].Type);
        Assert.Equal("sparsevec", cols["keywords"].Type);
        Assert.Equal("vector(3)[]", cols["colbert"].Type);
        var rows = (await RowsAsync(cs, "shapes", [("text", "vector_send"), ("image", "vector_send"), ("keywords", "sparsevec_send"), ("colbert", "array_send")]))
            .OrderBy(r => r.Id).ToList();
        // Decoded by the Pgvector package, not by the writer's codec.
        AssertBitsEqual(tricky, ((Pgvector.Vector)(await PgvectorReadBack.ValuesAsync(cs, "shapes", "text"))["1"]!).ToArray(), "text");
        AssertBitsEqual([float.MinValue, 3.4028235e-38f], ((Pgvector.Vector)(await PgvectorReadBack.ValuesAsync(cs, "shapes", "image"))["1"]!).ToArray(), "image");
        var sparse = (Pgvector.SparseVector)(await PgvectorReadBack.ValuesAsync(cs, "shapes", "keywords"))["1"]!;
        Assert.Equal(PgVectorCodec.SparseVecMaxDim, sparse.Dimensions);
        Assert.Equal([3, 7, 4_000_000], sparse.Indices.ToArray());
        AssertBitsEqual([-1.25f, 0.5f, 1e-30f], sparse.Values.ToArray(), "keywords");
        var colbert = await PgvectorReadBack.ValuesAsync(cs, "shapes", "colbert");
        var multi = (Pgvector.Vector[])colbert["1"]!;
        Assert.Equal(2, multi.Length);
        AssertBitsEqual([4, 5, 6.000001f], multi[1].ToArray(), "colbert[1]");

        Assert.Null(rows[1].Vectors[0]);
        Assert.Null(rows[1].Vectors[2]);
        Assert.Empty((Pgvector.Vector[])colbert["2"]!);
        Assert.Null(rows[1].Payload);
    }

    [Fact]
    public async Task Payloads_arrive_deep_equal()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 1));
        string[] payloads =
        [
            """{"s":"héllo \"world\" ✓ 😀","n":-12.5e3,"big":123456789012345678901234567890,"i":9007199254740993,"t":true,"f":false,"z":null}""",
            """{"nested":{"list":[1,"two",{"three":[3.0]}],"empty":{},"arr":[]},"backslash":"a\\u0000b"}""",
            """{}""",
        ];
        await WriteAsync(cs, "p", payloads.Select((p, i) => Dense((ulong)i, [1], p, schema)));
        var rows = (await RowsAsync(cs, "p", [])).OrderBy(r => long.Parse(r.Id)).ToList();
        for (var i = 0; i < payloads.Length; i++)
        {
            Assert.True(JsonPayload.DeepEquals(System.Text.Encoding.UTF8.GetBytes(payloads[i]), System.Text.Encoding.UTF8.GetBytes(rows[i].Payload!)),
                $"payload {i}: {rows[i].Payload}");
        }
    }

    [Fact]
    public async Task Bad_records_are_refused_by_name_and_the_rest_are_written()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 3));
        var records = new List<VectorRecord>
        {
            Dense(1UL, [1, 2, 3], schema: schema),
            Dense(2UL, [1, float.NaN, 3], schema: schema),
            Dense(3UL, [1, 2, float.PositiveInfinity], schema: schema),
            Dense(4UL, [1, 2], schema: schema),
            Dense(5UL, [1, 2, 3], """{"title":"bad\u0000char"}""", schema),
            Dense(Guid.NewGuid(), [1, 2, 3], schema: schema),
            new VectorRecord(7UL, new Dictionary<string, VectorValue> { ["other"] = new DenseVector([1]) }, null) { Schema = schema },
            Dense(8UL, [4, 5, 6], """{"ok":"\\u0000 is fine when escaped"}""", schema),
        };
        var rejected = new List<RecordRejectedException>();
        var summary = await WriteAsync(cs, "bad", records, rejected, batchSize: 2);

        Assert.Equal(2, summary.RecordsWritten);
        Assert.Equal(6, summary.RecordsRejected);
        Assert.Equal(new[] { "1", "8" }, (await RowsAsync(cs, "bad", [])).Select(r => r.Id).Order());
        Assert.Equal(["PgVectorNotFinite", "PgVectorNotFinite", "PgVectorDimensionMismatch", "PgPayloadNulCharacter", "PgIdDoesNotFit", "PgVectorNoColumn"],
            rejected.Select(r => r.ErrorId));
        Assert.Contains("Record 2 ", rejected[0].Message);
        Assert.Contains("NaN", rejected[0].Message);
        Assert.Contains("2 dimensions", rejected[2].Message);
        Assert.All(rejected, r => Assert.Equal(FailureKind.InvalidRecord, r.Kind));
    }

    [Fact]
    public async Task An_existing_table_that_cannot_take_the_records_is_refused_before_any_row()
    {
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, "CREATE TABLE t (id bigint PRIMARY KEY, embedding vector(4), payload jsonb, owner text NOT NULL)");
        var schema = Schema(IdKinds.Unsigned | IdKinds.Uuid, new VectorField("", VectorKind.Dense, 3));
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => WriteAsync(cs, "t", [Dense(1UL, [1, 2, 3], schema: schema)]));
        Assert.Equal("PgTableIncompatible", ex.ErrorId);
        Assert.Contains("vector(4)", ex.Message);
        Assert.Contains("3 dimensions", ex.Message);
        Assert.Contains("\"owner\" is NOT NULL", ex.Message);
        Assert.Contains("Unsigned, Uuid", ex.Message);
        Assert.Equal(0, await CountAsync(cs, "t"));
    }

    [Fact]
    public async Task An_existing_compatible_table_is_appended_to_in_its_own_types()
    {
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, "CREATE TABLE t (id bigint PRIMARY KEY, embedding halfvec(2), payload jsonb, note text DEFAULT 'x')");
        await ExecAsync(cs, "INSERT INTO t (id, embedding) VALUES (100, '[9,9]')");
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 2));
        var rejected = new List<RecordRejectedException>();
        await WriteAsync(cs, "t", [Dense(1UL, [0.5f, 1.5f], schema: schema), Dense(ulong.MaxValue, [1, 1], schema: schema), Dense(2UL, [1e6f, 1], schema: schema)], rejected);
        Assert.Equal(2, await CountAsync(cs, "t")); // the row that was there, and id 1
        Assert.Equal(["PgIdDoesNotFit", "PgHalfVecOverflow"], rejected.Select(r => r.ErrorId));
        var half = (Pgvector.HalfVector)(await PgvectorReadBack.ValuesAsync(cs, "t", "embedding"))["1"]!;
        AssertBitsEqual([0.5f, 1.5f], half.ToArray().Select(h => (float)h).ToArray(), "halfvec");
    }

    [Fact]
    public async Task A_failed_batch_is_rolled_back_whole_and_earlier_batches_stay()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 2));
        var records = Enumerable.Range(1, 25).Select(i => Dense((ulong)i, [i, i], schema: schema))
            .Append(Dense(3UL, [0, 0], schema: schema)) // duplicate of a committed key: fails its batch
            .Concat(Enumerable.Range(100, 5).Select(i => Dense((ulong)i, [i, i], schema: schema)));
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => WriteAsync(cs, "dup", records, batchSize: 10));
        Assert.Equal("PgVectorBatchFailed", ex.ErrorId);
        Assert.Contains("batch of 10 records with ids 21 to 103", ex.Message);
        Assert.Contains("(id)=(3)", ex.Message);
        Assert.Contains("The 20 records committed before it stay", ex.Message);
        Assert.Equal(20, await CountAsync(cs, "dup"));
    }

    [Fact]
    public async Task A_batch_sent_in_many_chunks_that_fails_at_its_end_is_rolled_back_whole()
    {
        // 1024 dims: each row is over 4 KB, so a batch of 100 reaches the server in several chunks before it ends.
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 1024));
        var v = Enumerable.Range(0, 1024).Select(i => (float)Math.Sin(i)).ToArray();
        var records = Enumerable.Range(1, 250).Select(i => Dense((ulong)i, v, schema: schema))
            .Append(Dense(7UL, v, schema: schema)) // duplicate of a committed key, in the third batch
            .Concat(Enumerable.Range(252, 49).Select(i => Dense((ulong)i, v, schema: schema)));
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => WriteAsync(cs, "big", records, batchSize: 100));
        Assert.Equal("PgVectorBatchFailed", ex.ErrorId);
        Assert.Contains("batch of 100 records with ids 201 to 300", ex.Message);
        Assert.Contains("(id)=(7)", ex.Message);
        Assert.Equal(200, await CountAsync(cs, "big"));
    }

    [Fact]
    public async Task An_unflushed_batch_already_partly_sent_is_rolled_back_on_dispose()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 1024));
        var v = Enumerable.Range(0, 1024).Select(i => (float)Math.Cos(i)).ToArray();
        await using (var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "open", BatchSize = 100 }))
        {
            // One committed batch, then 60 rows (about 250 KB: several chunks already sent) left open.
            for (var i = 1; i <= 160; i++) await w.WriteAsync(Dense((ulong)i, v, schema: schema));
            Assert.Equal(100, w.Summary.RecordsWritten);
        }
        Assert.Equal(100, await CountAsync(cs, "open"));

        // The table takes the same ids again afterwards: nothing of the cancelled COPY stayed.
        await WriteAsync(cs, "open", Enumerable.Range(101, 60).Select(i => Dense((ulong)i, v, schema: schema)));
        Assert.Equal(160, await CountAsync(cs, "open"));
    }

    [Fact]
    public async Task Planning_changes_nothing_and_shows_the_ddl()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = new SourceSchema(SourceKind.Pinecone, "products", IdKinds.String,
            [new VectorField("", VectorKind.Dense, 8, DistanceMetric.Cosine), new VectorField("sparse", VectorKind.Sparse, null)], hasNamespaces: true, payloadName: "metadata");
        await using var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Schema = "public", Table = "My \"Quoted\" Table" });
        var plan = await w.PlanAsync(Dense("a", new float[8], schema: schema));
        Assert.False(plan.Exists);
        var ddl = Assert.Single(plan.Ddl, d => d.StartsWith("CREATE TABLE"));
        Assert.Contains("\"public\".\"My \"\"Quoted\"\" Table\"", ddl);
        Assert.Contains("\"namespace\" text NOT NULL DEFAULT ''", ddl);
        Assert.Contains("\"sparse\" sparsevec", ddl);
        Assert.Contains("\"metadata\" jsonb", ddl);
        Assert.Contains("PRIMARY KEY (\"namespace\", \"id\")", ddl);
        Assert.Empty(await ColumnsAsync(cs, "My \"Quoted\" Table"));
    }

    [Fact]
    public async Task The_same_string_id_in_two_namespaces_is_two_rows()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = new SourceSchema(SourceKind.Pinecone, "idx", IdKinds.String, [new VectorField("", VectorKind.Dense, 1)], true, "metadata");
        VectorRecord R(string ns) => new("doc #1 & /x", new Dictionary<string, VectorValue> { [""] = new DenseVector([1]) }, null) { Namespace = ns, Schema = schema };
        await WriteAsync(cs, "ns", [R(""), R("prod")]);
        var rows = await RowsAsync(cs, "ns", [], payload: "metadata", ns: true);
        Assert.Equal(new[] { "", "prod" }, rows.Select(r => r.Namespace).Order());
        Assert.All(rows, r => Assert.Equal("doc #1 & /x", r.Id));
    }

    [Fact]
    public async Task A_missing_schema_and_an_unreachable_server_are_named_without_the_password()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 1));
        var ex = await Assert.ThrowsAsync<VecMigrateException>(async () =>
        {
            await using var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Schema = "nope", Table = "t" });
            await w.WriteAsync(Dense(1UL, [1], schema: schema));
        });
        Assert.Equal("PgSchemaNotFound", ex.ErrorId);

        var bad = "Host=127.0.0.1;Port=1;Username=me;Password=s3cret-pw;Database=x;Timeout=2";
        var ex2 = await Assert.ThrowsAsync<VecMigrateException>(async () =>
        {
            await using var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = bad, Table = "t" });
            await w.WriteAsync(Dense(1UL, [1], schema: schema));
        });
        Assert.Equal("PgUnreachable", ex2.ErrorId);
        Assert.Contains("127.0.0.1:1/x as me", ex2.Message);
        Assert.DoesNotContain("s3cret-pw", ex2.ToString());
    }

    [Fact]
    public async Task Sparse_vectors_are_checked_against_the_sparse_dimension()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("s", VectorKind.Sparse, null));
        VectorRecord S(ulong id, uint[] i, float[] v) => new(id, new Dictionary<string, VectorValue> { ["s"] = new SparseVector(i, v) }, null) { Schema = schema };
        var rejected = new List<RecordRejectedException>();
        await WriteAsync(cs, "sp", [S(1, [0, 29999], [1, 2]), S(2, [30000], [1]), S(3, [5, 5], [1, 2]), S(4, [], [])], rejected, sparseDim: 30000);
        Assert.Equal(["PgSparseVecIndexOutOfRange", "PgSparseVecDuplicateIndex"], rejected.Select(r => r.ErrorId));
        Assert.Equal(2, await CountAsync(cs, "sp"));
    }

    [Fact]
    public async Task Explicit_zeros_in_a_sparse_vector_are_left_out_as_sparsevec_requires()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("s", VectorKind.Sparse, null));
        var r = new VectorRecord(1UL, new Dictionary<string, VectorValue> { ["s"] = new SparseVector([1, 2, 3, 4], [0.5f, 0f, -0f, 1f]) }, null) { Schema = schema };
        await WriteAsync(cs, "z", [r]);
        var sparse = (Pgvector.SparseVector)(await PgvectorReadBack.ValuesAsync(cs, "z", "s"))["1"]!;
        Assert.Equal(new[] { 1, 4 }, sparse.Indices.ToArray());
        Assert.Equal(new[] { 0.5f, 1f }, sparse.Values.ToArray());
    }

    private static async Task ExecAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }
}
