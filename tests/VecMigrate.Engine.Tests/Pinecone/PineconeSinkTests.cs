using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Pinecone;

/// <summary>Helpers for writing through a <see cref="PineconeSink"/> into the stand-in.</summary>
internal static class PineconeSinkKit
{
    public static PineconeSink Sink(this PineconeTestKit kit, string index, string? ns = null, int batchSize = 1000,
        int maxBytes = PineconeClient.MaxUpsertBytes, string? vectorName = null, string? sparseVectorName = null,
        Action<PineconeBatchCommitted>? committed = null, bool byHost = false) =>
        new(kit.Client, new PineconeSinkOptions
        {
            IndexName = index,
            IndexHost = byHost ? kit.StandIn.Index(index).HostName : null,
            Namespace = ns,
            BatchSize = batchSize,
            MaxRequestBytes = maxBytes,
            VectorName = vectorName,
            SparseVectorName = sparseVectorName,
        })
        { BatchCommitted = committed };

    public static VectorRecord Rec(PointId id, float[]? dense, SparseVector? sparse = null, string? metadata = null, string? ns = null,
        string? position = null, SourceSchema? schema = null)
    {
        var v = new Dictionary<string, VectorValue>();
        if (dense is not null) v[""] = new DenseVector(dense);
        if (sparse is not null) v["sparse"] = sparse;
        return new VectorRecord(id, v, metadata is null ? null : JsonPayload.FromString(metadata)) { Namespace = ns, Position = position, Schema = schema };
    }

    /// <summary>
    /// The record as a Pinecone read returns it: the id as Pinecone's string, the written dense vector under "",
    /// the written sparse vector under "sparse", the payload as it was, in <paramref name="ns"/> (else its own).
    /// </summary>
    public static VectorRecord AsPinecone(VectorRecord r, string? ns = null, string dense = "", string? sparse = "sparse")
    {
        var v = new Dictionary<string, VectorValue>();
        if (r.Vectors.TryGetValue(dense, out var d)) v[""] = d;
        if (sparse is not null && r.Vectors.TryGetValue(sparse, out var s) && s.Length > 0) v["sparse"] = s;
        return new VectorRecord(PointId.FromString(r.Id.ToString()), v, r.Payload) { Namespace = ns ?? r.Namespace ?? "" };
    }

    public static float[] RandomVector(Random rng, int dim)
    {
        var v = new float[dim];
        for (var i = 0; i < dim; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    public static IEnumerable<PineconeStandInRequest> Upserts(this PineconeStandIn standIn) =>
        standIn.Requests.Where(r => r.Path == "/vectors/upsert");

    public static async IAsyncEnumerable<VectorRecord> AsAsync(this IEnumerable<VectorRecord> records)
    {
        foreach (var r in records)
        {
            await Task.Yield();
            yield return r;
        }
    }
}

public sealed class PineconeSinkTests
{
    private static readonly SparseVector Sparse1 = new([7], [0.5f]);

    private static async Task<VecMigrateException> ThrowsId(string errorId, Func<Task> call)
    {
        var ex = await Assert.ThrowsAnyAsync<VecMigrateException>(call);
        Assert.True(ex.ErrorId == errorId, $"expected {errorId}, got {ex.ErrorId}: {ex.Message}");
        return ex;
    }

    public static TheoryData<string, string> BadRecords() => new()
    {
        { "id513", PineconeErrorIds.IdTooLong },
        { "idEmpty", PineconeErrorIds.IdInvalid },
        { "metadata41k", PineconeErrorIds.MetadataTooLarge },
        { "metadataNull", PineconeErrorIds.MetadataNull },
        { "metadataNested", PineconeErrorIds.MetadataNested },
        { "metadataNumberList", PineconeErrorIds.MetadataUnsupported },
        { "metadataArray", PineconeErrorIds.MetadataUnsupported },
        { "metadataBigInteger", PineconeErrorIds.MetadataNumberInexact },
        { "metadataBroken", PineconeErrorIds.MetadataInvalid },
        { "dimension2", PineconeErrorIds.DimensionMismatch },
        { "nan", PineconeErrorIds.VectorNotFinite },
        { "sparseInfinity", PineconeErrorIds.VectorNotFinite },
        { "zeros", PineconeErrorIds.VectorAllZeros },
        { "sparseDuplicate", PineconeErrorIds.SparseIndexDuplicate },
        { "sparse1001", PineconeErrorIds.SparseTooManyValues },
        { "noDense", PineconeErrorIds.VectorMissing },
        { "extraVector", PineconeErrorIds.VectorNotWritten },
        { "extraMultivector", PineconeErrorIds.MultivectorUnsupported },
        { "sparseAsDense", PineconeErrorIds.VectorKindMismatch },
    };

    private static VectorRecord Bad(string kind)
    {
        const string id = "bad one";
        float[] ok = [1, 2, 3];
        return kind switch
        {
            "id513" => PineconeSinkKit.Rec(new string('x', 513), ok),
            "idEmpty" => PineconeSinkKit.Rec("", ok),
            "metadata41k" => PineconeSinkKit.Rec(id, ok, metadata: $$"""{"pad":"{{new string('x', 41_000)}}"}"""),
            "metadataNull" => PineconeSinkKit.Rec(id, ok, metadata: """{"a":1,"gone":null}"""),
            "metadataNested" => PineconeSinkKit.Rec(id, ok, metadata: """{"deep":{"x":1}}"""),
            "metadataNumberList" => PineconeSinkKit.Rec(id, ok, metadata: """{"nums":["a",2]}"""),
            "metadataArray" => PineconeSinkKit.Rec(id, ok, metadata: """["a"]"""),
            "metadataBigInteger" => PineconeSinkKit.Rec(id, ok, metadata: """{"big":9007199254740993}"""),
            "metadataBroken" => PineconeSinkKit.Rec(id, ok, metadata: """{"a":"""),
            "dimension2" => PineconeSinkKit.Rec(id, [1, 2]),
            "nan" => PineconeSinkKit.Rec(id, [1, float.NaN, 3]),
            "sparseInfinity" => PineconeSinkKit.Rec(id, ok, new SparseVector([1, 2], [1, float.PositiveInfinity])),
            "zeros" => PineconeSinkKit.Rec(id, [0, -0f, 0]),
            "sparseDuplicate" => PineconeSinkKit.Rec(id, ok, new SparseVector([9, 3, 9], [1, 2, 3])),
            "sparse1001" => PineconeSinkKit.Rec(id, ok, new SparseVector(Enumerable.Range(0, 1001).Select(i => (uint)i).ToArray(), Enumerable.Repeat(1f, 1001).ToArray())),
            "noDense" => PineconeSinkKit.Rec(id, null, Sparse1),
            "extraVector" => new VectorRecord(id, new Dictionary<string, VectorValue> { [""] = new DenseVector(ok), ["other"] = new DenseVector([1]) }, null),
            "extraMultivector" => new VectorRecord(id, new Dictionary<string, VectorValue> { [""] = new DenseVector(ok), ["colbert"] = new MultiVector([[1f, 2f]]) }, null),
            "sparseAsDense" => new VectorRecord(id, new Dictionary<string, VectorValue> { [""] = Sparse1 }, null),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Theory]
    [MemberData(nameof(BadRecords))]
    public async Task A_record_over_a_Pinecone_limit_is_rejected_by_name_and_the_others_are_written(string kind, string errorId)
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("lim", 3, "dotproduct");
        await using var sink = kit.Sink("lim");
        var bad = Bad(kind);

        await sink.WriteAsync(PineconeSinkKit.Rec("ok1", [1, 2, 3], Sparse1, """{"k":"v"}"""));
        var ex = await Assert.ThrowsAsync<RecordRejectedException>(() => sink.WriteAsync(bad).AsTask());
        await sink.WriteAsync(PineconeSinkKit.Rec("ok2", [4, 5, 6]));
        await sink.FlushAsync();

        Assert.Equal(errorId, ex.ErrorId);
        Assert.Same(bad, ex.Record);
        Assert.Equal(FailureKind.InvalidRecord, ex.Kind);
        Assert.Contains(bad.Id.ToString().Length > 40 ? bad.Id.ToString()[..40] : bad.Id.ToString(), ex.Message);
        Assert.Contains("'lim'", ex.Message);
        Assert.Equal(["ok1", "ok2"], index.Records("").Select(r => r.Id));
        Assert.Equal((2, 1), (sink.Summary.RecordsWritten, sink.Summary.RecordsRejected));
        Assert.All(kit.StandIn.Upserts(), r => Assert.Equal(200, r.Status)); // nothing Pinecone would refuse was sent
    }

    [Theory]
    [InlineData("2020", true)]
    [InlineData("-17", true)]
    [InlineData("1.5", true)]
    [InlineData("1.50", true)]
    [InlineData("0.1", true)]
    [InlineData("-0.0", true)]
    [InlineData("1E+20", true)]
    [InlineData("2.5e-300", true)]
    [InlineData("9007199254740992", true)]
    [InlineData("9007199254740993", false)]
    [InlineData("18446744073709551615", false)]
    [InlineData("0.12345678901234567890", false)]
    [InlineData("1e400", false)]
    [InlineData("1e-400", false)]
    public void A_metadata_number_passes_only_when_a_64_bit_float_keeps_its_value(string number, bool survives)
    {
        Assert.Equal(survives, PineconeMetadata.SurvivesFloat64(System.Text.Encoding.ASCII.GetBytes(number), out _));
    }

    [Fact]
    public async Task A_single_record_larger_than_a_request_may_be_is_rejected()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        await kit.StandIn.CreateIndexAsync("big", 600);
        await using var sink = kit.Sink("big", maxBytes: 4096);
        var rng = new Random(1);

        var ex = await Assert.ThrowsAsync<RecordRejectedException>(() => sink.WriteAsync(PineconeSinkKit.Rec("huge", PineconeSinkKit.RandomVector(rng, 600))).AsTask());

        Assert.Equal(PineconeErrorIds.RecordTooLarge, ex.ErrorId);
        Assert.Contains("huge", ex.Message);
        Assert.Contains("over the limit", ex.Message);
        Assert.Empty(kit.StandIn.Upserts());
    }

    [Fact]
    public async Task Requests_are_cut_by_bytes_so_none_passes_2_MB_and_each_is_nearly_full()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        await kit.StandIn.CreateIndexAsync("bytes", 4000);
        await using var sink = kit.Sink("bytes");
        var rng = new Random(2);
        var records = Enumerable.Range(0, 200).Select(i => PineconeSinkKit.Rec($"r{i:D3}", PineconeSinkKit.RandomVector(rng, 4000), metadata: $$"""{"i":{{i}}}""")).ToList();

        foreach (var r in records) await sink.WriteAsync(r);
        await sink.FlushAsync();

        var upserts = kit.StandIn.Upserts().ToList();
        Assert.True(upserts.Count >= 4, $"{upserts.Count} requests");
        Assert.All(upserts, u => Assert.Equal(200, u.Status));
        Assert.All(upserts, u => Assert.InRange(u.ContentLength!.Value, 1, PineconeClient.MaxUpsertBytes));
        // Every request but the last was filled to within one record (about 50 KB) of the limit.
        Assert.All(upserts.SkipLast(1), u => Assert.True(u.ContentLength > PineconeClient.MaxUpsertBytes - 60_000, $"{u.ContentLength} bytes"));
        Assert.Equal(upserts.Sum(u => u.ContentLength!.Value), sink.Summary.BytesSent);
        Assert.Equal(upserts.Count, sink.Summary.BatchesCommitted);
        RecordAssert.SameSet(records.Select(r => PineconeSinkKit.AsPinecone(r)), await PineconeTestKit.ReadAllAsync(kit.Source("bytes")));
    }

    [Fact]
    public async Task Requests_are_cut_by_count_and_each_acknowledged_batch_reports_its_last_position()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        await kit.StandIn.CreateIndexAsync("count", 2);
        var committed = new List<PineconeBatchCommitted>();
        await using var sink = kit.Sink("count", batchSize: 7, committed: committed.Add);
        var records = Enumerable.Range(1, 50).Select(i => PineconeSinkKit.Rec($"r{i:D2}", [i, 1], position: $"p{i}")).ToList();

        var summary = await sink.WriteThroughRunnerAsync(records.AsAsync());

        Assert.Equal(8, committed.Count);
        Assert.Equal([7, 7, 7, 7, 7, 7, 7, 1], committed.Select(c => c.Count));
        Assert.Equal(["p7", "p14", "p21", "p28", "p35", "p42", "p49", "p50"], committed.Select(c => c.LastPosition));
        Assert.Equal(("r08", "r14"), (committed[1].FirstId, committed[1].LastId));
        Assert.Equal([7L, 14, 21, 28, 35, 42, 49, 50], committed.Select(c => c.Summary.RecordsWritten));
        Assert.Equal(8, kit.StandIn.Upserts().Count());
        Assert.Equal(50, summary.RecordsWritten);
    }

    [Fact]
    public async Task Upsert_bodies_have_the_documented_shape_and_leave_the_default_namespace_out()
    {
        var bodies = new ConcurrentQueue<string>();
        await using var kit = await PineconeTestKit.StartAsync(new PineconeStandInOptions
        {
            Configure = app => app.Use(async (ctx, next) =>
            {
                if (ctx.Request.Path == "/vectors/upsert")
                {
                    ctx.Request.EnableBuffering();
                    using var reader = new StreamReader(ctx.Request.Body, leaveOpen: true);
                    bodies.Enqueue(await reader.ReadToEndAsync());
                    ctx.Request.Body.Position = 0;
                }
                await next(ctx);
            }),
        });
        await kit.StandIn.CreateIndexAsync("shape", 2, "dotproduct");
        await using var sink = kit.Sink("shape");

        await sink.WriteAsync(PineconeSinkKit.Rec("a", [1, 2], new SparseVector([3], [0.25f]), """{"genre":"drama","year":2020}""", ns: ""));
        await sink.WriteAsync(PineconeSinkKit.Rec("b", [3, 4], ns: "prod"));
        await sink.FlushAsync();

        Assert.Equal(2, bodies.Count);
        using var first = JsonDocument.Parse(bodies.First());
        using var second = JsonDocument.Parse(bodies.Last());
        Assert.False(first.RootElement.TryGetProperty("namespace", out _), bodies.First());
        Assert.Equal("prod", second.RootElement.GetProperty("namespace").GetString());
        var v = first.RootElement.GetProperty("vectors")[0];
        Assert.Equal(["id", "values", "sparseValues", "metadata"], v.EnumerateObject().Select(p => p.Name));
        Assert.Equal("""{"indices":[3],"values":[0.25]}""", v.GetProperty("sparseValues").GetRawText());
        Assert.Equal("""{"genre":"drama","year":2020}""", v.GetProperty("metadata").GetRawText()); // the source's bytes, untouched
    }

    public static TheoryData<string, string, string> Incompatible() => new()
    {
        // case, error id, words the message must hold
        { "dimension", PineconeErrorIds.IndexIncompatible, "dimension 3" },
        { "sparseOnlyIntoDense", PineconeErrorIds.IndexIncompatible, "needs dense values" },
        { "denseIntoSparse", PineconeErrorIds.IndexIncompatible, "takes only sparse values" },
        { "sparseIntoCosine", PineconeErrorIds.IndexIncompatible, "dotproduct" },
        { "severalDense", PineconeErrorIds.VectorChoiceNeeded, "'text', 'image'" },
        { "multivector", PineconeErrorIds.MultivectorUnsupported, "'colbert'" },
        { "vectorNameMissing", PineconeErrorIds.VectorChoiceNeeded, "'nope'" },
    };

    [Theory]
    [MemberData(nameof(Incompatible))]
    public async Task An_index_that_cannot_take_the_records_is_refused_before_any_vector_is_sent(string kind, string errorId, string words)
    {
        await using var kit = await PineconeTestKit.StartAsync();
        await kit.StandIn.CreateIndexAsync("dense3", 3, "cosine");
        await kit.StandIn.CreateIndexAsync("dot3", 3, "dotproduct");
        await kit.StandIn.CreateIndexAsync("sparse", null, "dotproduct");
        VectorField Dense(string name, int dim) => new(name, VectorKind.Dense, dim, DistanceMetric.Cosine);
        VectorField Sp(string name) => new(name, VectorKind.Sparse, null, DistanceMetric.Dot);
        (string Index, VectorField[] Fields, string? VectorName) Case() => kind switch
        {
            "dimension" => ("dense3", new[] { Dense("", 4) }, null),
            "sparseOnlyIntoDense" => ("dot3", new[] { Sp("bm25") }, null),
            "denseIntoSparse" => ("sparse", new[] { Dense("", 3), Sp("bm25") }, null),
            "sparseIntoCosine" => ("dense3", new[] { Dense("", 3), Sp("bm25") }, null),
            "severalDense" => ("dot3", new[] { Dense("text", 3), Dense("image", 3) }, null),
            "multivector" => ("dot3", new[] { Dense("", 3), new VectorField("colbert", VectorKind.Multi, 3) }, null),
            "vectorNameMissing" => ("dot3", new[] { Dense("text", 3) }, "nope"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var (index, fields, vectorName) = Case();
        var schema = new SourceSchema(SourceKind.Qdrant, "src", IdKinds.Unsigned, fields, false, "payload");
        var vectors = fields.ToDictionary(f => f.Name, f => f.Kind switch
        {
            VectorKind.Sparse => (VectorValue)new SparseVector([1], [1]),
            VectorKind.Multi => new MultiVector([[1, 2, 3]]),
            _ => new DenseVector(Enumerable.Range(1, f.Dimension!.Value).Select(i => (float)i).ToArray()),
        });
        var record = new VectorRecord(1UL, vectors, null) { Schema = schema };
        await using var sink = new PineconeSink(kit.Client, new PineconeSinkOptions { IndexName = index, VectorName = vectorName });

        var ex = await ThrowsId(errorId, () => sink.WriteAsync(record).AsTask());

        Assert.Contains(words, ex.Message);
        Assert.Contains($"'{index}'", ex.Message);
        Assert.Contains("Nothing was written", ex.Message);
        Assert.IsNotType<RecordRejectedException>(ex);
        Assert.Empty(kit.StandIn.Upserts());
    }

    [Fact]
    public async Task A_missing_index_is_not_created_and_the_error_says_which_index_to_create()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var schema = new SourceSchema(SourceKind.Qdrant, "src", IdKinds.Unsigned, [new VectorField("", VectorKind.Dense, 8, DistanceMetric.Euclid)], false, "payload");
        await using var sink = kit.Sink("absent");

        var ex = await ThrowsId(PineconeErrorIds.IndexNotFound,
            () => sink.WriteAsync(new VectorRecord(1UL, new Dictionary<string, VectorValue> { [""] = new DenseVector([1, 2, 3, 4, 5, 6, 7, 8]) }, null) { Schema = schema }).AsTask());

        Assert.Contains("dimension 8 and metric euclidean", ex.Message);
        Assert.Contains("does not create", ex.Message);
        Assert.Empty(kit.StandIn.Upserts());
    }

    [Fact]
    public async Task Naming_a_vector_writes_it_and_leaves_the_other_vectors_behind()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        await kit.StandIn.CreateIndexAsync("named", 3, "dotproduct");
        var schema = new SourceSchema(SourceKind.Qdrant, "src", IdKinds.Unsigned,
            [new VectorField("text", VectorKind.Dense, 3), new VectorField("image", VectorKind.Dense, 2), new VectorField("bm25", VectorKind.Sparse, null)], false, "payload");
        var records = Enumerable.Range(1, 5).Select(i => new VectorRecord((ulong)i, new Dictionary<string, VectorValue>
        {
            ["text"] = new DenseVector([i, 2, 3]),
            ["image"] = new DenseVector([9, 9]),
            ["bm25"] = new SparseVector([(uint)i], [0.5f]),
        }, null) { Schema = schema }).ToList();
        await using var sink = kit.Sink("named", vectorName: "text");

        await sink.WriteThroughRunnerAsync(records.AsAsync());

        Assert.Equal("text", sink.Plan!.DenseVector);
        Assert.Equal("bm25", sink.Plan.SparseVector);
        Assert.Equal(["image"], sink.Plan.LeftBehind);
        Assert.Equal(1, kit.Logs.Count(3012));
        RecordAssert.SameSet(records.Select(r => PineconeSinkKit.AsPinecone(r, dense: "text", sparse: "bm25")), await PineconeTestKit.ReadAllAsync(kit.Source("named")));
    }

    [Fact]
    public async Task Rate_limited_upserts_wait_as_Retry_After_says_and_then_succeed()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("busy", 2);
        kit.StandIn.FailNext(3, 429, TimeSpan.FromSeconds(1), "/vectors/upsert");
        await using var sink = kit.Sink("busy");
        var clock = Stopwatch.StartNew();

        for (var i = 1; i <= 10; i++) await sink.WriteAsync(PineconeSinkKit.Rec($"r{i}", [i, 0]));
        await sink.FlushAsync();

        // The transport's own backoff is milliseconds here: only Retry-After can account for the wait.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.8), $"{clock.Elapsed}");
        Assert.Equal([429, 429, 429, 200], kit.StandIn.Upserts().Select(r => r.Status));
        Assert.Equal(10, index.Records("").Count);
        Assert.Equal(1, sink.Summary.BatchesCommitted);
        Assert.Equal(3, kit.Logs.Count(1001));
    }

    [Fact]
    public async Task A_batch_that_keeps_failing_names_index_namespace_and_ids_and_the_batches_before_it_stay()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("flaky", 2);
        // After the first acknowledged batch, the server fails every attempt the transport makes (5).
        await using var sink = kit.Sink("flaky", ns: "prod", batchSize: 5,
            committed: _ => kit.StandIn.FailNext(PineconeTestKit.FastRetry.MaxAttempts, 503, pathPrefix: "/vectors/upsert"));
        var records = Enumerable.Range(0, 12).Select(i => PineconeSinkKit.Rec($"r{i:D2}", [i, 1])).ToList();

        var ex = await ThrowsId(PineconeErrorIds.UpsertFailed, async () =>
        {
            foreach (var r in records) await sink.WriteAsync(r);
            await sink.FlushAsync();
        });

        Assert.Contains("'flaky'", ex.Message);
        Assert.Contains("namespace 'prod'", ex.Message);
        Assert.Contains("'r05' to 'r09'", ex.Message);
        Assert.Contains("The 5 records in 1 batches acknowledged before it stay", ex.Message);
        Assert.Contains("safe", ex.Message);
        Assert.Equal(PineconeErrorIds.ServerError, ((VecMigrateException)ex.InnerException!).ErrorId);
        Assert.Equal(["r00", "r01", "r02", "r03", "r04"], index.Records("prod").Select(r => r.Id));
        await Assert.ThrowsAsync<InvalidOperationException>(() => sink.WriteAsync(records[11]).AsTask());
    }

    [Fact]
    public async Task The_client_refuses_an_answer_whose_upserted_count_is_not_what_was_sent()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        await using var liar = await StandInHost.StartAsync(app => app.Run(async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("""{"upsertedCount":1}""");
        }));

        var ex = await ThrowsId(PineconeErrorIds.UpsertCountMismatch, () => kit.Client.UpsertAsync(liar.BaseAddress, "",
            [new PineconeUpsertVector("a", [1f]), new PineconeUpsertVector("b", [2f])]));
        var ok = await kit.Client.UpsertAsync((await kit.StandIn.CreateIndexAsync("ok", 1)).Url, "", [new PineconeUpsertVector("a", [1f])]);

        Assert.Contains("1 vectors upserted, not the 2 sent", ex.Message);
        Assert.Equal(1, ok);
    }

    [Fact]
    public async Task Options_beyond_Pinecone_limits_are_refused()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var e1 = await ThrowsId(PineconeErrorIds.InvalidArgument, () => Task.FromResult(kit.Sink("x", batchSize: 1001)));
        var e2 = await ThrowsId(PineconeErrorIds.InvalidArgument, () => Task.FromResult(kit.Sink("x", maxBytes: PineconeClient.MaxUpsertBytes + 1)));
        Assert.Contains("1,000", e1.Message);
        Assert.Contains("2 MB", e2.Message);
    }

    [Fact]
    public async Task An_index_given_by_host_is_checked_through_describe_index_stats()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("byhost", 2, "euclidean");
        await using var sink = kit.Sink("byhost", byHost: true);

        await sink.WriteAsync(PineconeSinkKit.Rec("a", [1, 2]));
        var ex = await Assert.ThrowsAsync<RecordRejectedException>(() => sink.WriteAsync(PineconeSinkKit.Rec("b", [1, 2, 3])).AsTask());
        await sink.FlushAsync();

        Assert.Equal(PineconeErrorIds.DimensionMismatch, ex.ErrorId);
        Assert.Equal((2, "euclidean", "dense"), (sink.Plan!.Dimension, sink.Plan.Metric, sink.Plan.VectorType));
        Assert.DoesNotContain(kit.StandIn.Requests, r => r.Index is null); // the control plane was not asked
        Assert.Single(index.Records(""));
    }
}
