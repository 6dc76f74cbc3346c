using System.Net;
using System.Text;
using System.Text.Json;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Qdrant;
using VecMigrate.Testing;
using VecMigrate.Testing.Contracts;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>
/// The write paths (create collection, upsert points, and the sink that drives them) against a Qdrant stand-in that
/// checks every exchange against qdrant-openapi.json: our create and upsert bodies on one side, the stand-in's
/// answers (200, the 4XX envelope, injected 429/503) on the other. Each test ends with no violations in at least
/// as many checked exchanges as it made; the last test proves a forbidden write body is caught.
/// </summary>
public sealed class QdrantWriteContractTests : IDisposable
{
    private readonly RestTransport _transport = new(FastRetry, TimeSpan.FromSeconds(60));

    public void Dispose() => _transport.Dispose();

    private static Task<QdrantStandIn> StartAsync() => QdrantStandIn.StartAsync(contracts: VendorContracts.Load().QdrantCheck());

    private QdrantClient Client(QdrantStandIn server) => new(server.BaseAddress, null, _transport);

    /// <summary>No violations, and at least <paramref name="exchanges"/> exchanges were really checked.</summary>
    private static void AssertConforms(QdrantStandIn server, int exchanges)
    {
        var contracts = server.Contracts!;
        contracts.EnsureNoViolations();
        Assert.True(contracts.ExchangesChecked >= exchanges, $"only {contracts.ExchangesChecked} exchange(s) checked, expected {exchanges}");
        Assert.Equal(contracts.ExchangesSeen, contracts.ExchangesChecked); // no sampling: every exchange was looked at
    }

    private static VectorRecord Rec(PointId id, SourceSchema? schema, string? payload, params (string Name, VectorValue Value)[] vectors) =>
        QdrantSinkKit.Record(id, schema, payload, vectors);

    private static QdrantVectorParams Dense(string name, int size, DistanceMetric distance, string? datatype = null) =>
        new(name, size, distance, distance.ToString(), datatype, null);

    private static QdrantVectorParams Multi(string name, int size, DistanceMetric distance) =>
        new(name, size, distance, distance.ToString(), null, "max_sim");

    private static readonly Guid U1 = Uuid(0x11, 1), U2 = Uuid(0xee, 2);

    // ---------------------------------------------------------------- the client's own calls

    [ContractFact]
    public async Task Creating_collections_of_every_vector_config_and_upserting_into_them_conforms()
    {
        await using var server = await StartAsync();
        using var client = Client(server);

        await client.CreateCollectionAsync("unnamed", [Dense("", 3, DistanceMetric.Dot, "float16")]);
        await client.CreateCollectionAsync("unnamed-multi", [Multi("", 2, DistanceMetric.Cosine)]);
        await client.CreateCollectionAsync("named", [Dense("text", 4, DistanceMetric.Euclid, "float32"), Dense("image", 2, DistanceMetric.Manhattan, "uint8"), Multi("colbert", 2, DistanceMetric.Dot)],
            [new QdrantSparseVectorParams("bm25", "idf", null), new QdrantSparseVectorParams("splade", null, null)]);
        await client.CreateCollectionAsync("sparse-only", [], [new QdrantSparseVectorParams("bm25", "none", null)]);
        await client.CreateCollectionAsync("hybrid", [Dense("", 3, DistanceMetric.Cosine)], [new QdrantSparseVectorParams("sparse", null, null)]);

        var unnamed = await client.UpsertAsync("unnamed",
        [
            Rec(0UL, null, null, ("", new DenseVector([1f, -2.5f, 3e-8f]))),
            Rec(ulong.MaxValue, null, """{"a": [1, "x", null], "b": {"c": true}}""", ("", new DenseVector([float.MaxValue, -0f, float.Epsilon]))),
            Rec(U1, null, "{}", ("", new DenseVector([0.1f, 0.2f, 0.3f]))),
        ]);
        var multi = await client.UpsertAsync("unnamed-multi", [Rec(7UL, null, null, ("", new MultiVector([[1f, 2f], [3f, 4f], [-5f, 6f]])))], wait: false);
        var named = await client.UpsertAsync("named",
        [
            Rec(1UL << 63, null, """{"city": "Oslo"}""",
                ("text", new DenseVector([1f, 2f, 3f, 4f])), ("image", new DenseVector([1f, 255f])),
                ("colbert", new MultiVector([[0.5f, -0.5f]])), ("bm25", new SparseVector([900, 3, 1], [1f, 0.5f, 0.25f])), ("splade", new SparseVector([], []))),
            Rec(U2, null, null, ("bm25", new SparseVector([0], [2f]))),
            Rec(2UL, null, null), // no vectors at all: `"vector": {}`
        ]);
        var sparse = await client.UpsertAsync("sparse-only", [Rec(3UL, null, null, ("bm25", new SparseVector([uint.MaxValue, 0], [1e-30f, -1f])))]);
        var hybrid = await client.UpsertAsync("hybrid",
        [
            Rec(4UL, null, null, ("", new DenseVector([3f, 4f, 0f])), ("sparse", new SparseVector([5], [0.5f]))),
            Rec(5UL, null, null, ("", new DenseVector([1f, 0f, 0f]))),
            Rec(6UL, null, null, ("sparse", new SparseVector([6], [0.25f]))),
        ]);

        Assert.Equal(["completed", "acknowledged", "completed", "completed", "completed"],
            new[] { unnamed, multi, named, sparse, hybrid }.Select(r => r.Status));
        Assert.All(new[] { unnamed, multi, named, sparse, hybrid }, r => Assert.NotNull(r.OperationId));
        Assert.Equal((3, 1, 3, 1, 3), (server.Count("unnamed"), server.Count("unnamed-multi"), server.Count("named"), server.Count("sparse-only"), server.Count("hybrid")));
        AssertConforms(server, 10);
    }

    [ContractFact]
    public async Task Creating_a_collection_that_exists_and_upserting_what_it_cannot_hold_get_the_documented_error_envelope()
    {
        await using var server = await StartAsync();
        server.CreateCollection("docs", new QdrantStandInVector("", 3, "Dot"));
        using var client = Client(server);

        // Both requests are what the document allows; Qdrant refuses them for what the collection is.
        var exists = await ThrowsQdrant("QdrantBadRequest", () => client.CreateCollectionAsync("docs", [Dense("", 3, DistanceMetric.Dot)]));
        Assert.Contains("already exists", exists.Message, StringComparison.Ordinal);
        var dimension = await ThrowsQdrant("QdrantBadRequest", () => client.UpsertAsync("docs", [Rec(1UL, null, null, ("", new DenseVector([1f, 2f])))]));
        Assert.Contains("Vector dimension error", dimension.Message, StringComparison.Ordinal);
        var name = await ThrowsQdrant("QdrantBadRequest", () => client.UpsertAsync("docs", [Rec(1UL, null, null, ("nope", new DenseVector([1f, 2f, 3f])))]));
        Assert.Contains("Not existing vector name", name.Message, StringComparison.Ordinal);
        await ThrowsQdrant("QdrantCollectionNotFound", () => client.UpsertAsync("missing", [Rec(1UL, null, null, ("", new DenseVector([1f, 2f, 3f])))]));

        Assert.Equal(0, server.Count("docs"));
        AssertConforms(server, 4);
    }

    // ---------------------------------------------------------------- the sink, end to end

    private static readonly SourceSchema NamedSchema = QdrantSinkKit.Schema(SourceKind.Qdrant, IdKinds.Unsigned | IdKinds.Uuid, false,
        new VectorField("text", VectorKind.Dense, 8, DistanceMetric.Cosine),
        new VectorField("image", VectorKind.Dense, 3, DistanceMetric.Euclid),
        new VectorField("colbert", VectorKind.Multi, 2, DistanceMetric.Dot),
        new VectorField("bm25", VectorKind.Sparse, null));

    [ContractFact]
    public async Task Sink_creates_a_named_dense_multi_and_sparse_collection_and_fills_it_in_byte_bounded_batches_conforming()
    {
        await using var server = await StartAsync();
        using var client = Client(server);
        var random = new Random(11);
        var records = new List<VectorRecord>();
        for (var i = 0; i < 120; i++)
        {
            PointId id = i % 3 == 0 ? PointId.FromUuid(Uuid((byte)i, i)) : PointId.FromUnsigned(i == 1 ? ulong.MaxValue : (ulong)i);
            var vectors = new List<(string, VectorValue)> { ("text", new DenseVector(RandomVector(random, 8))) };
            if (i % 2 == 0) vectors.Add(("image", new DenseVector(RandomVector(random, 3))));
            if (i % 4 != 1) vectors.Add(("colbert", new MultiVector(Enumerable.Range(0, 1 + i % 3).Select(_ => RandomVector(random, 2)).ToArray())));
            if (i % 5 != 2) vectors.Add(("bm25", new SparseVector([(uint)(i * 7 % 13), (uint)(100 + i)], [random.NextSingle(), -random.NextSingle()])));
            records.Add(Rec(id, NamedSchema, i % 7 == 0 ? null : $$"""{"i": {{i}}, "tag": "t{{i % 3}}", "nested": {"list": [1, "two", null]}, "text": "naïve 日本 \"q\""}""", vectors.ToArray()));
        }
        var committed = new List<QdrantBatchCommitted>();
        QdrantWriteSummary summary;
        await using (var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions("all")
        {
            SparseModifiers = new Dictionary<string, string> { ["bm25"] = "idf" },
            MaxRequestBytes = 8 * 1024,
            BatchSize = 50,
        }, committed.Add))
        {
            summary = await sink.WriteThroughRunnerAsync(records.ToAsync());
            Assert.True(sink.CreatedCollection);
        }

        Assert.Equal(120, summary.RecordsWritten);
        var upserts = server.Upserts;
        Assert.True(upserts.Count >= 5, $"{upserts.Count} upserts");
        Assert.All(upserts, u => Assert.InRange(u.Bytes, 1, 8 * 1024));
        Assert.Equal(committed.Count, upserts.Count);
        var info = await client.GetCollectionAsync("all");
        Assert.Equal("idf", Assert.Single(info.SparseVectors).Modifier);
        Assert.Equal(120, server.Count("all"));
        // describe (404), create, describe, the upserts, and the describe above.
        AssertConforms(server, upserts.Count + 4);
    }

    [ContractFact]
    public async Task Sink_writes_string_ids_as_UUIDv5_with_original_id_and_namespace_in_the_payload_conforming()
    {
        await using var server = await StartAsync();
        using var client = Client(server);
        var schema = QdrantSinkKit.Schema(SourceKind.Pinecone, IdKinds.String, true,
            new VectorField("", VectorKind.Dense, 4, DistanceMetric.Dot), new VectorField("sparse", VectorKind.Sparse, null, DistanceMetric.Dot));
        string[] ids = ["doc#1", "a b", "42", "550e8400-e29b-41d4-a716-446655440000", "naïve/日本", "quote\"d", "x"];
        var records = new List<VectorRecord>();
        foreach (var ns in new[] { "", "alpha", "β space" })
        {
            for (var i = 0; i < ids.Length; i++)
            {
                var vectors = new Dictionary<string, VectorValue> { [""] = new DenseVector([i + 1f, 0.5f, -1f, 2f]) };
                if (i % 2 == 0) vectors["sparse"] = new SparseVector([(uint)i, 1000], [0.5f, 1.5f]);
                var payload = i % 3 == 0 ? null : JsonPayload.FromString($$"""{"genre": "drama", "year": {{2000 + i}}, "tags": ["a", "b"]}""");
                records.Add(new VectorRecord(ids[i], vectors, payload) { Schema = schema, Namespace = ns });
            }
        }

        await using (var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions("from-pinecone") { BatchSize = 8 }))
        {
            await sink.WriteThroughRunnerAsync(records.ToAsync());
        }

        var back = await QdrantSinkKit.ReadBackAsync(client, "from-pinecone");
        Assert.Equal(records.Count, back.Count);
        Assert.All(back, r => Assert.Equal(PointIdKind.Uuid, r.Id.Kind));
        var one = back.Single(r => r.Id == QdrantPointIds.ToQdrant("naïve/日本", "β space"));
        Assert.Equal("naïve/日本", QdrantSinkKit.PayloadOf(one).GetProperty(QdrantSinkOptions.DefaultOriginalIdField).GetString());
        Assert.Equal("β space", QdrantSinkKit.PayloadOf(one).GetProperty(QdrantSinkOptions.DefaultNamespaceField).GetString());
        Assert.Equal(3, server.Upserts.Count);
        AssertConforms(server, 3 + 3 + 1);
    }

    [ContractFact]
    public async Task Sink_into_an_existing_unnamed_multivector_collection_conforms()
    {
        await using var server = await StartAsync();
        server.CreateCollection("colbert", new QdrantStandInVector("", 3, "Dot", Multivector: true));
        using var client = Client(server);
        var schema = QdrantSinkKit.Schema(SourceKind.Qdrant, IdKinds.Unsigned, false, new VectorField("", VectorKind.Multi, 3, DistanceMetric.Dot));
        var records = Enumerable.Range(0, 30).Select(i => Rec((ulong)i, schema, $$"""{"n": {{i}}}""",
            ("", new MultiVector(Enumerable.Range(0, 1 + i % 4).Select(r => new[] { i, r, -1f }).ToArray())))).ToList();

        await using (var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions("colbert") { BatchSize = 10, CreateCollection = false }))
        {
            await sink.WriteThroughRunnerAsync(records.ToAsync());
            Assert.False(sink.CreatedCollection);
        }

        RecordAssert.SameSet(records, server.Points("colbert"));
        AssertConforms(server, 1 + 3);
    }

    [ContractFact]
    public async Task Sink_refuses_an_incompatible_collection_after_a_conforming_describe_and_sends_nothing()
    {
        await using var server = await StartAsync();
        server.CreateCollection("other", [new QdrantStandInVector("text", 5, "Cosine")], [new QdrantStandInSparse("colbert")]);
        using var client = Client(server);
        await using var sink = QdrantSinkKit.Sink(client, "other");

        var ex = await ThrowsQdrant("QdrantCollectionIncompatible", () => sink.WriteAsync(Rec(1UL, NamedSchema, null,
            ("text", new DenseVector(new float[8])), ("colbert", new MultiVector([[1f, 2f]])))).AsTask());

        Assert.Contains("Nothing was written", ex.Message, StringComparison.Ordinal);
        Assert.Empty(server.Upserts);
        AssertConforms(server, 1);
    }

    [ContractFact]
    public async Task Sink_retries_429_and_503_answers_and_every_attempt_conforms()
    {
        await using var server = await StartAsync();
        using var client = Client(server);
        server.Faults.FailNext(1, 503, null, "/collections/busy"); // the first describe
        server.Faults.FailNext(1, 429, TimeSpan.Zero, "/points");
        server.Faults.FailNext(1, 503, null, "/points");
        var schema = QdrantSinkKit.Schema(SourceKind.Qdrant, IdKinds.Unsigned, false, new VectorField("", VectorKind.Dense, 2, DistanceMetric.Euclid));

        await using (var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions("busy") { BatchSize = 5 }))
        {
            await sink.WriteThroughRunnerAsync(Enumerable.Range(0, 10).Select(i => Rec((ulong)i, schema, null, ("", new DenseVector([i, 1f])))).ToAsync());
        }

        Assert.Equal(3, server.Faults.Injected);
        Assert.Equal(10, server.Count("busy"));
        // 3 faults, describe (404), create, describe, 2 upserts.
        AssertConforms(server, 8);
    }

    [ContractFact]
    public async Task Sink_batch_that_keeps_failing_stops_with_every_answer_conforming()
    {
        await using var server = await StartAsync();
        server.CreateCollection("flaky", new QdrantStandInVector("", 2, "Dot"));
        using var client = Client(server);
        var schema = QdrantSinkKit.Schema(SourceKind.Qdrant, IdKinds.Unsigned, false, new VectorField("", VectorKind.Dense, 2, DistanceMetric.Dot));
        await using var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions("flaky") { BatchSize = 4 },
            _ => server.Faults.FailNext(FastRetry.MaxAttempts, 503, null, "/points"));

        var ex = await ThrowsQdrant("QdrantBatchFailed", async () =>
        {
            for (var i = 0; i < 10; i++) await sink.WriteAsync(Rec((ulong)i, schema, null, ("", new DenseVector([i, 1f]))));
            await sink.FlushAsync();
        });

        Assert.Contains("The 4 records of the 1 batches acknowledged before it stay", ex.Message, StringComparison.Ordinal);
        Assert.Equal(4, server.Count("flaky"));
        AssertConforms(server, 2 + FastRetry.MaxAttempts);
    }

    // ---------------------------------------------------------------- the wiring catches drift

    [ContractFact]
    public async Task A_write_body_that_breaks_the_document_is_recorded_on_the_request_side()
    {
        await using var server = await StartAsync();
        server.CreateCollection("docs", new QdrantStandInVector("", 2, "Dot"));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        // A vector given as a string, an id that is neither an unsigned integer nor a UUID, and a payload that is a list.
        using var upsert = await http.PutAsync("collections/docs/points?wait=true",
            new StringContent("""{"points": [{"id": 1, "vector": "0.5,0.25"}, {"id": -3, "vector": [1, 2]}, {"id": 2, "vector": [1, 2], "payload": ["a"]}]}""",
                Encoding.UTF8, "application/json"));
        // A distance Qdrant does not have (its names are capitalized), a size of 0.
        using var create = await http.PutAsync("collections/new",
            new StringContent("""{"vectors": {"size": 0, "distance": "cosine"}}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, upsert.StatusCode);
        Assert.False(create.IsSuccessStatusCode);
        var violations = server.Contracts!.Violations;
        Assert.All(violations, v => Assert.Equal(ContractDirection.Request, v.Direction));
        Assert.Contains(violations, v => v.Path == "/collections/docs/points" && v.InstancePath == "$.points[0].vector");
        Assert.Contains(violations, v => v.Path == "/collections/docs/points" && v.InstancePath == "$.points[1].id");
        Assert.Contains(violations, v => v.Path == "/collections/docs/points" && v.InstancePath == "$.points[2].payload");
        Assert.Contains(violations, v => v.Path == "/collections/new" && v.InstancePath?.StartsWith("$.vectors", StringComparison.Ordinal) == true);
        Assert.Throws<ContractViolationException>(server.Contracts.EnsureNoViolations);
        Assert.Equal(0, server.Count("docs"));
    }

    [ContractFact]
    public void The_upsert_answer_schema_is_enforced_on_the_stand_in_side()
    {
        // The stand-in's answers are checked too: an update result without its status, or with one Qdrant never
        // sends, is the stand-in's fault.
        var check = VendorContracts.Load().QdrantCheck();
        const string request = """{"points": [{"id": 1, "vector": [1, 2]}]}""";
        ContractAssert.NoViolations(check.Check(ContractAssert.Response("PUT", "/collections/docs/points?wait=true", 200,
            """{"result": {"operation_id": 3, "status": "completed"}, "status": "ok", "time": 0.001}""", request)));
        var missing = check.Check(ContractAssert.Response("PUT", "/collections/docs/points?wait=true", 200,
            """{"result": {"operation_id": 3}, "status": "ok", "time": 0.001}""", request));
        Assert.All(missing, v => Assert.Equal(ContractDirection.Response, v.Direction));
        Assert.NotEmpty(missing);
        var unknown = check.Check(ContractAssert.Response("PUT", "/collections/docs/points?wait=true", 200,
            """{"result": {"operation_id": 3, "status": "done"}, "status": "ok", "time": 0.001}""", request));
        Assert.Contains(unknown, v => v.Direction == ContractDirection.Response && v.InstancePath == "$.result.status");
        var query = check.Check(ContractAssert.Request("PUT", "/collections/docs/points?wait=yes", request));
        Assert.Contains(query, v => v.InstancePath == "?wait");
    }
}

internal static class QdrantWriteContractTestExtensions
{
    public static async IAsyncEnumerable<VectorRecord> ToAsync(this IEnumerable<VectorRecord> records)
    {
        foreach (var r in records)
        {
            await Task.Yield();
            yield return r;
        }
    }
}
