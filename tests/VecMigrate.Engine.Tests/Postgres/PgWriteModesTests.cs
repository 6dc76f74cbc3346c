using Npgsql;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using static VecMigrate.Engine.Tests.Postgres.PgReadBack;

namespace VecMigrate.Engine.Tests.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PgWriteModesTests(PostgresFixture pg)
{
    private static readonly SourceSchema Dim2 = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 2, DistanceMetric.Cosine));

    private static async Task<PgVectorWriter> WriteAsync(PgWriteOptions options, IEnumerable<VectorRecord> records, bool complete = true)
    {
        var w = new PgVectorWriter(options);
        try
        {
            foreach (var r in records) await w.WriteAsync(r);
            if (complete) await w.CompleteAsync(); else await w.FlushAsync();
            await w.CreateIndexesAsync();
            return w;
        }
        finally
        {
            await w.DisposeAsync();
        }
    }

    private static IEnumerable<VectorRecord> Records(int from, int count, float value, SourceSchema? schema = null) =>
        Enumerable.Range(from, count).Select(i => Dense((ulong)i, [i, value], $$"""{"v":{{value}}}""", schema ?? Dim2) );

    [Fact]
    public async Task Upsert_twice_leaves_one_row_per_record_with_the_latest_values()
    {
        var cs = await pg.NewDatabaseAsync();
        var opts = new PgWriteOptions { ConnectionString = cs, Table = "u", Mode = PgWriteMode.Upsert, BatchSize = 7 };
        await WriteAsync(opts, Records(0, 50, 1));
        // A rerun overlapping the first, with a key twice in one batch: the last one wins.
        await WriteAsync(opts, Records(25, 50, 2).Append(Dense(30UL, [30, 3], """{"v":3}""", Dim2)));
        Assert.Equal(75, await CountAsync(cs, "u"));
        var rows = await PgvectorReadBack.ValuesAsync(cs, "u", "embedding"); // Pgvector's decoder, not the writer's codec
        Assert.Equal(1f, ((Pgvector.Vector)rows["10"]!).ToArray()[1]);
        Assert.Equal(2f, ((Pgvector.Vector)rows["60"]!).ToArray()[1]);
        Assert.Equal(3f, ((Pgvector.Vector)rows["30"]!).ToArray()[1]);
    }

    [Fact]
    public async Task Append_over_existing_keys_fails_its_batch_and_says_to_upsert()
    {
        var cs = await pg.NewDatabaseAsync();
        var opts = new PgWriteOptions { ConnectionString = cs, Table = "a", BatchSize = 10 };
        await WriteAsync(opts, Records(0, 10, 1));
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => WriteAsync(opts, Records(5, 10, 2)));
        Assert.Contains("mode Upsert", ex.Message);
        Assert.Equal(10, await CountAsync(cs, "a"));
    }

    [Fact]
    public async Task Upsert_into_a_table_without_a_key_is_refused_before_writing()
    {
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, "CREATE TABLE nokey (id numeric(20,0), embedding vector(2), payload jsonb)");
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => WriteAsync(new PgWriteOptions { ConnectionString = cs, Table = "nokey", Mode = PgWriteMode.Upsert }, Records(0, 3, 1)));
        Assert.Equal("PgUpsertNeedsKey", ex.ErrorId);
        Assert.Equal(0, await CountAsync(cs, "nokey"));
    }

    [Fact]
    public async Task Replace_empties_the_table_in_the_first_batch_and_never_drops_it()
    {
        var cs = await pg.NewDatabaseAsync();
        await WriteAsync(new PgWriteOptions { ConnectionString = cs, Table = "r" }, Records(0, 30, 1));
        await ExecAsync(cs, "GRANT SELECT ON r TO PUBLIC; COMMENT ON COLUMN r.payload IS 'kept'");
        await WriteAsync(new PgWriteOptions { ConnectionString = cs, Table = "r", Mode = PgWriteMode.Replace, BatchSize = 4 }, Records(100, 10, 2));
        Assert.Equal(10, await CountAsync(cs, "r"));
        Assert.Equal("kept", await ScalarAsync<string>(cs, "SELECT col_description('r'::regclass, 3)"));

        // A Replace whose first batch fails leaves the old rows.
        var bad = Records(200, 3, 3).Append(Dense(200UL, [0, 0], null, Dim2));
        await Assert.ThrowsAsync<VecMigrateException>(() => WriteAsync(new PgWriteOptions { ConnectionString = cs, Table = "r", Mode = PgWriteMode.Replace, BatchSize = 10 }, bad));
        Assert.Equal(10, await CountAsync(cs, "r"));
    }

    [Fact]
    public async Task Halfvec_tables_hold_values_within_binary16_rounding()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 3, DistanceMetric.Euclid));
        float[] v = [0.1f, -1234.5678f, 3.14159265f];
        await WriteAsync(new PgWriteOptions { ConnectionString = cs, Table = "h", VectorType = PgVectorType.HalfVec }, [Dense(1UL, v, null, schema)]);
        Assert.Equal("halfvec(3)", (await ColumnsAsync(cs, "h"))["embedding"].Type);
        var back = ((Pgvector.HalfVector)(await PgvectorReadBack.ValuesAsync(cs, "h", "embedding"))["1"]!).ToArray().Select(h => (float)h).ToArray();
        for (var i = 0; i < v.Length; i++)
        {
            Assert.Equal((float)(Half)v[i], back[i]);
            Assert.True(Math.Abs(back[i] - v[i]) <= Math.Abs(v[i]) * 0.001, $"{back[i]} vs {v[i]}");
        }
    }

    [Fact]
    public async Task Real_array_tables_need_no_pgvector_and_keep_bits()
    {
        var cs = await pg.Server.CreateDatabaseAsync(withVector: false);
        float[] v = [float.Epsilon, -0.0f, 1.0000001f];
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 3));
        await WriteAsync(new PgWriteOptions { ConnectionString = cs, Table = "plain", VectorType = PgVectorType.RealArray }, [Dense(1UL, v, null, schema)]);
        Assert.Equal("real[]", (await ColumnsAsync(cs, "plain"))["embedding"].Type);
        Assert.Equal(0L, await ScalarAsync<long>(cs, "SELECT count(*) FROM pg_extension WHERE extname = 'vector'"));
        var back = await ScalarAsync<float[]>(cs, "SELECT embedding FROM plain"); // Npgsql's own real[] reader
        AssertBitsEqual(v, back, "real[]");
    }

    [Fact]
    public async Task Without_pgvector_enabled_and_without_create_rights_the_error_says_what_to_do()
    {
        var cs = await pg.Server.CreateDatabaseAsync(withVector: false);
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => WriteAsync(new PgWriteOptions { ConnectionString = cs, Table = "v", CreateExtension = false }, Records(0, 1, 1)));
        Assert.Equal("PgVectorExtensionNotCreated", ex.ErrorId);
        Assert.Contains("CREATE EXTENSION vector", ex.Message);
        Assert.Contains("RealArray", ex.Message);
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, PgIndexKind.Hnsw, "hnsw", "vector_cosine_ops")]
    [InlineData(DistanceMetric.Euclid, PgIndexKind.Hnsw, "hnsw", "vector_l2_ops")]
    [InlineData(DistanceMetric.Dot, PgIndexKind.IvfFlat, "ivfflat", "vector_ip_ops")]
    [InlineData(DistanceMetric.Manhattan, PgIndexKind.Hnsw, "hnsw", "vector_l1_ops")]
    [InlineData(DistanceMetric.Cosine, PgIndexKind.IvfFlat, "ivfflat", "vector_cosine_ops")]
    public async Task The_index_operator_class_follows_the_source_metric(DistanceMetric metric, PgIndexKind kind, string method, string ops)
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 2, metric));
        await WriteAsync(new PgWriteOptions { ConnectionString = cs, Table = "ix", Index = kind }, Records(1, 20, 1, schema));
        var def = await ScalarAsync<string>(cs, "SELECT indexdef FROM pg_indexes WHERE tablename = 'ix' AND indexdef LIKE '%USING " + method + "%'");
        Assert.Contains(ops, def);
    }

    [Fact]
    public async Task Halfvec_and_sparse_columns_get_their_own_operator_classes()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("d", VectorKind.Dense, 3000, DistanceMetric.Dot), new VectorField("s", VectorKind.Sparse, null, DistanceMetric.Dot));
        var r = new VectorRecord(1UL, new Dictionary<string, VectorValue> { ["d"] = new DenseVector(new float[3000].Select((_, i) => (float)i / 3000).ToArray()), ["s"] = new SparseVector([1, 5], [1, 2]) }, null) { Schema = schema };
        await WriteAsync(new PgWriteOptions { ConnectionString = cs, Table = "hs", Index = PgIndexKind.Hnsw, VectorType = PgVectorType.HalfVec, SparseDimension = 30522 }, [r]);
        var defs = await ScalarAsync<string>(cs, "SELECT string_agg(indexdef, ' | ') FROM pg_indexes WHERE tablename = 'hs'");
        Assert.Contains("halfvec_ip_ops", defs);
        Assert.Contains("sparsevec_ip_ops", defs);
    }

    [Theory]
    [InlineData("dense2001", PgIndexKind.Hnsw, "more than 2000 dimensions")]
    [InlineData("sparse", PgIndexKind.IvfFlat, "IVFFlat cannot index sparsevec")]
    [InlineData("multi", PgIndexKind.Hnsw, "multivectors")]
    [InlineData("manhattan", PgIndexKind.IvfFlat, "no L1")]
    [InlineData("nometric", PgIndexKind.Hnsw, "names no distance metric")]
    public async Task Combinations_that_cannot_be_indexed_are_refused_before_any_row(string shape, PgIndexKind kind, string message)
    {
        var cs = await pg.NewDatabaseAsync();
        var (field, value) = shape switch
        {
            "dense2001" => (new VectorField("", VectorKind.Dense, 2001, DistanceMetric.Cosine), (VectorValue)new DenseVector(new float[2001].Select(_ => 1f).ToArray())),
            "sparse" => (new VectorField("", VectorKind.Sparse, null, DistanceMetric.Dot), new SparseVector([1], [1])),
            "multi" => (new VectorField("", VectorKind.Multi, 2, DistanceMetric.Dot), new MultiVector([[1, 2]])),
            "manhattan" => (new VectorField("", VectorKind.Dense, 2, DistanceMetric.Manhattan), new DenseVector([1, 2])),
            _ => (new VectorField("", VectorKind.Dense, 2), (VectorValue)new DenseVector([1, 2])),
        };
        var schema = Schema(IdKinds.Unsigned, field);
        var r = new VectorRecord(1UL, new Dictionary<string, VectorValue> { [""] = value }, null) { Schema = schema };
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => WriteAsync(new PgWriteOptions { ConnectionString = cs, Table = "no", Index = kind }, [r]));
        Assert.Equal("PgIndexNotPossible", ex.ErrorId);
        Assert.Contains(message, ex.Message);
        Assert.Equal(0L, await ScalarAsync<long>(cs, "SELECT count(*) FROM pg_class WHERE relname = 'no'"));
    }

    /// <summary>A run of the engine's runner with a checkpoint, as Write-PgVector -Checkpoint and Copy-VectorData do it.</summary>
    private static async Task<MigrationSummary> RunAsync(PgWriteOptions options, string source, string checkpoint, bool resume, IEnumerable<VectorRecord> records)
    {
        await using var w = new PgVectorWriter(options);
        return await Migration.RunAsync(MigrationSource.Once(source, Stream(records)), w, new MigrationOptions { Checkpoint = checkpoint, Resume = resume });
    }

    private static VectorRecord WithPosition(VectorRecord r, int _) => new(r.Id, r.Vectors, r.Payload) { Schema = r.Schema, Position = "p" + r.Id };

    private static async IAsyncEnumerable<VectorRecord> Stream(IEnumerable<VectorRecord> records)
    {
        foreach (var r in records)
        {
            await Task.Yield();
            yield return r;
        }
    }

    [Fact]
    public async Task The_checkpoint_moves_with_each_committed_batch_and_not_with_a_failed_one()
    {
        var cs = await pg.NewDatabaseAsync();
        const string source = "Qdrant http://q/ collection 'docs'";
        VectorRecord R(int i) => new(i == 99 ? 5UL : (ulong)i, new Dictionary<string, VectorValue> { [""] = new DenseVector([i, 0]) }, null) { Schema = Dim2, Position = "p" + i };
        var opts = new PgWriteOptions { ConnectionString = cs, Table = "c", BatchSize = 10 };
        // 25 records, then a duplicate key in the third batch: two batches commit, the third does not.
        var failed = await Assert.ThrowsAsync<VecMigrateException>(() => RunAsync(opts, source, "mig1", false, Enumerable.Range(0, 25).Append(99).Select(R)));
        Assert.Equal("PgVectorBatchFailed", failed.ErrorId); // piped records cannot be read again: the writer's own error
        var state = Assert.Single(await PgCheckpointStore.ListAsync(cs));
        Assert.Equal("p19", state.Position);
        Assert.Equal(20, state.Records);
        Assert.False(state.Completed);
        Assert.Equal(source, state.Source);
        Assert.Equal(20, await CountAsync(cs, "c"));

        // Without resume, an existing checkpoint is not silently started over.
        var again = await Assert.ThrowsAsync<VecMigrateException>(() => RunAsync(opts, source, "mig1", false, Enumerable.Range(0, 5).Select(R)));
        Assert.Equal("MigrationCheckpointExists", again.ErrorId);

        // Resume after p19 with the rest, in Replace mode: the rows already written stay, and the count goes on.
        var replace = new PgWriteOptions { ConnectionString = cs, Table = "c", BatchSize = 10, Mode = PgWriteMode.Replace };
        var summary = await RunAsync(replace, source, "mig1", true, Enumerable.Range(20, 15).Select(R));
        Assert.Equal("p19", summary.ResumedAfter);
        Assert.Equal(20, summary.RecordsBefore);
        state = Assert.Single(await PgCheckpointStore.ListAsync(cs));
        Assert.True(state.Completed);
        Assert.Equal("p34", state.Position);
        Assert.Equal(35, await CountAsync(cs, "c"));
        Assert.Equal(35, state.Records);
    }

    [Fact]
    public async Task A_checkpoint_for_another_source_is_refused_and_can_be_removed()
    {
        var cs = await pg.NewDatabaseAsync();
        var opts = new PgWriteOptions { ConnectionString = cs, Table = "c" };
        await RunAsync(opts, "Qdrant http://a/x", "m", false, Records(0, 3, 1).Select((r, i) => WithPosition(r, i)));
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => RunAsync(opts, "Qdrant http://b/y", "m", true, Records(3, 3, 1).Select((r, i) => WithPosition(r, i))));
        Assert.Equal("MigrationCheckpointMismatch", ex.ErrorId);
        Assert.Contains("http://a/x", ex.Message);
        Assert.True(await PgCheckpointStore.RemoveAsync(cs, "m"));
        Assert.Empty(await PgCheckpointStore.ListAsync(cs));
    }

    internal static async Task ExecAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }

    internal static async Task<T> ScalarAsync<T>(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }
}
