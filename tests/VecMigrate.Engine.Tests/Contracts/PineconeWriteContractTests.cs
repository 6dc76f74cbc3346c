using VecMigrate.Testing;
using System.Diagnostics;
using System.Net;
using System.Text;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Pinecone;
using VecMigrate.Testing.Contracts;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>
/// The write path (<c>POST /vectors/upsert</c>, and the sink with the describe calls that come before it) against a
/// Pinecone stand-in whose control plane and index hosts check every exchange against the 2026-04 documents: our
/// upsert bodies and the stand-in's answers (200, rpcStatus errors, 429 with Retry-After). Each test ends with no
/// violation on any host in at least as many checked exchanges as it made; the last ones prove a forbidden upsert
/// body is caught.
/// </summary>
public sealed class PineconeWriteContractTests
{
    private static readonly RetryPolicy FastRetry = new()
    {
        MaxAttempts = 4,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(5),
    };

    /// <summary>Ids that are awkward in JSON and query strings alike.</summary>
    private static readonly string[] AwkwardIds =
    [
        "a b", "a#b", "a&b", "a/b", "a+b", "a%b", "%20", "?x=1&y=2", "naïve", "日本語", "emoji😀", "quote\"d", "back\\slash", "tab\tin",
        new string('x', 512),
    ];

    private sealed class Kit : IAsyncDisposable
    {
        public required PineconeStandIn StandIn { get; init; }
        public required RestTransport Transport { get; init; }
        public required PineconeClient Client { get; init; }

        public PineconeSink Sink(string index, string? ns = null, int batchSize = PineconeClient.MaxUpsertVectors,
            int maxBytes = PineconeClient.MaxUpsertBytes, bool byHost = false, Action<PineconeBatchCommitted>? committed = null) =>
            new(Client, new PineconeSinkOptions
            {
                IndexName = index,
                IndexHost = byHost ? StandIn.Index(index).HostName : null,
                Namespace = ns,
                BatchSize = batchSize,
                MaxRequestBytes = maxBytes,
            })
            { BatchCommitted = committed };

        public List<PineconeStandInRequest> Upserts() => StandIn.Upserts().ToList();

        /// <summary>No violations on any host, and at least <paramref name="exchanges"/> exchanges checked in all.</summary>
        public void AssertConforms(int exchanges)
        {
            StandIn.EnsureNoContractViolations();
            var checkedCount = StandIn.ContractExchangesChecked;
            Assert.True(checkedCount >= exchanges, $"only {checkedCount} exchange(s) checked, expected {exchanges}");
            // No sampling: every request that reached the stand-in was checked.
            Assert.Equal(StandIn.Requests.Count, checkedCount);
        }

        public async ValueTask DisposeAsync()
        {
            Transport.Dispose();
            await StandIn.DisposeAsync();
        }
    }

    private static async Task<Kit> StartAsync(PineconeStandInOptions? options = null, RetryPolicy? retry = null)
    {
        var standIn = await PineconeStandIn.StartAsync(options, VendorContracts.Load().PineconeCheck());
        var transport = new RestTransport(retry ?? FastRetry, TimeSpan.FromSeconds(30));
        var client = new PineconeClient(new ApiSecret(standIn.ApiKey), transport, new PineconeClientOptions
        {
            ControlPlaneUrl = standIn.ControlPlaneUrl,
            DataPlaneScheme = "http",
        });
        return new Kit { StandIn = standIn, Transport = transport, Client = client };
    }

    private static float[] Vec(int seed, int dim = 4) => Enumerable.Range(0, dim).Select(i => seed * 0.25f + i + 0.5f).ToArray();

    private static VectorRecord Rec(PointId id, float[]? dense, SparseVector? sparse = null, string? metadata = null, string? ns = null, string? position = null,
        SourceSchema? schema = null) =>
        PineconeSinkKit.Rec(id, dense, sparse, metadata, ns, position, schema);

    /// <summary>What a Pinecone source says of a hybrid index: dense values under "", sparse values under "sparse".</summary>
    private static SourceSchema Hybrid(int dimension) => new(SourceKind.Pinecone, "src", IdKinds.String,
        [new VectorField("", VectorKind.Dense, dimension, DistanceMetric.Dot), new VectorField("sparse", VectorKind.Sparse, null, DistanceMetric.Dot)], true, "metadata");

    // ---------------------------------------------------------------- the client's own upsert

    [ContractFact]
    public async Task Client_upserts_into_dense_hybrid_and_sparse_indexes_in_default_and_named_namespaces_conform()
    {
        await using var kit = await StartAsync();
        var dense = await kit.StandIn.CreateIndexAsync("dense", 4);
        var hybrid = await kit.StandIn.CreateIndexAsync("hybrid", 4, "dotproduct");
        var sparse = await kit.StandIn.CreateIndexAsync("sparse", null, "dotproduct");
        var meta = JsonPayload.FromString("""{"genre": "drama", "year": 2020, "score": -0.5, "ok": true, "tags": ["a", "b"], "text": "naïve \"q\""}""");

        var counts = new List<long>
        {
            await kit.Client.UpsertAsync(dense.Url, "", [new PineconeUpsertVector("d1", Vec(1), metadata: meta), new PineconeUpsertVector("d2", [float.MaxValue, -0f, float.Epsilon, 1e-30f])]),
            await kit.Client.UpsertAsync(dense.Url, "__default__", [new PineconeUpsertVector("d3", Vec(3))]),
            await kit.Client.UpsertAsync(dense.Url, "ns one/ü", AwkwardIds.Select((id, i) => new PineconeUpsertVector(id, Vec(i), metadata: meta)).ToList()),
            await kit.Client.UpsertAsync(hybrid.Url, "h", [new PineconeUpsertVector("h1", Vec(1), new SparseVector([1, 5, 4_000_000_000], [0.5f, -1f, 2f])), new PineconeUpsertVector("h2", Vec(2))]),
            await kit.Client.UpsertAsync(sparse.Url, "", [new PineconeUpsertVector("s1", null, new SparseVector([0], [1f]), meta)]),
        };

        Assert.Equal([2L, 1, AwkwardIds.Length, 2, 1], counts);
        Assert.Equal(3, dense.Records("").Count);
        Assert.Equal(AwkwardIds.Length, dense.Records("ns one/ü").Count);
        Assert.Null(sparse.Get("", "s1")!.Values);
        kit.AssertConforms(5);
    }

    [ContractFact]
    public async Task Upserts_the_index_refuses_get_the_documented_rpcStatus_answers()
    {
        await using var kit = await StartAsync();
        var dense = await kit.StandIn.CreateIndexAsync("dense", 4);
        var sparse = await kit.StandIn.CreateIndexAsync("sparse", null, "dotproduct");

        // All three bodies are what the document allows; the index refuses them for what it is.
        var dimension = await Assert.ThrowsAsync<VecMigrateException>(() => kit.Client.UpsertAsync(dense.Url, "", [new PineconeUpsertVector("a", [1f, 2f])]));
        var zeros = await Assert.ThrowsAsync<VecMigrateException>(() => kit.Client.UpsertAsync(dense.Url, "", [new PineconeUpsertVector("a", [0f, 0f, 0f, 0f])]));
        var denseIntoSparse = await Assert.ThrowsAsync<VecMigrateException>(() => kit.Client.UpsertAsync(sparse.Url, "", [new PineconeUpsertVector("a", [1f, 2f, 3f, 4f], new SparseVector([1], [1f]))]));

        Assert.Contains("dimension", dimension.Message, StringComparison.Ordinal);
        Assert.Contains("only zeros", zeros.Message, StringComparison.Ordinal);
        Assert.Contains("index is sparse", denseIntoSparse.Message, StringComparison.Ordinal);
        Assert.Empty(dense.Namespaces());
        kit.AssertConforms(3);
    }

    // ---------------------------------------------------------------- the sink, end to end

    [ContractTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Sink_writes_records_of_several_namespaces_with_awkward_ids_and_metadata_conforming(bool byHost)
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("docs", 4, "dotproduct");
        var records = new List<VectorRecord>();
        var n = 0;
        foreach (var ns in new[] { "", "alpha", "β space", "__default__" })
        {
            foreach (var id in AwkwardIds)
            {
                n++;
                // An empty sparse vector goes without sparseValues: the document wants at least one index there.
                var sparse = n % 3 == 0 ? new SparseVector([(uint)n, 70_000], [0.5f, -0.25f]) : n % 3 == 1 ? new SparseVector([], []) : null;
                var metadata = n % 2 == 0 ? $$"""{"n": {{n}}, "ns": "{{ns}}", "even": true, "tags": ["x", "y"], "f": 1.5e-7}""" : n % 5 == 1 ? "{}" : null;
                records.Add(Rec(ns == "__default__" ? (id.Length < 500 ? $"{id}-again" : new string('y', 512)) : id, Vec(n), sparse, metadata, ns, $"p{n}", Hybrid(4)));
            }
        }
        // 1 (no namespace: the default one) and 2 (a UUID and an integer id, as Qdrant sources give them).
        records.Add(Rec(PointId.FromUuid(Guid.Parse("550e8400-e29b-41d4-a716-446655440000")), Vec(98), schema: Hybrid(4)));
        records.Add(Rec(PointId.FromUnsigned(ulong.MaxValue), Vec(99), ns: "alpha", schema: Hybrid(4)));
        var committed = new List<PineconeBatchCommitted>();
        await using (var sink = kit.Sink("docs", batchSize: 7, byHost: byHost, committed: committed.Add))
        {
            var summary = await sink.WriteThroughRunnerAsync(records.AsAsync());
            Assert.Equal(records.Count, summary.RecordsWritten);
        }

        Assert.Equal(4 * AwkwardIds.Length + 2, index.Namespaces().Sum(ns => index.Records(ns).Count));
        Assert.Equal(["", "alpha", "β space"], index.Namespaces());
        Assert.NotNull(index.Get("alpha", ulong.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var upserts = kit.Upserts();
        Assert.Equal(committed.Count, upserts.Count);
        Assert.True(upserts.Count >= 9, $"{upserts.Count} upserts");
        kit.AssertConforms(upserts.Count + 1);
    }

    [ContractFact]
    public async Task Sink_into_a_sparse_only_index_conforms()
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("splade", null, "dotproduct");
        var records = Enumerable.Range(0, 40).Select(i => new VectorRecord($"s{i}", new Dictionary<string, VectorValue>
        {
            ["splade"] = new SparseVector(Enumerable.Range(0, 1 + i % 5).Select(k => (uint)(k * 1000 + i)).ToArray(), Enumerable.Range(0, 1 + i % 5).Select(k => k + 0.5f).ToArray()),
        }, i % 2 == 0 ? JsonPayload.FromString($$"""{"i": {{i}}}""") : null) { Namespace = i < 20 ? "" : "second" }).ToList();

        await using (var sink = kit.Sink("splade", batchSize: 15))
        {
            await sink.WriteThroughRunnerAsync(records.AsAsync());
            Assert.Equal("splade", sink.Plan!.SparseVector);
        }

        Assert.Equal((20, 20), (index.Records("").Count, index.Records("second").Count));
        Assert.All(index.Records("second"), r => Assert.Null(r.Values));
        kit.AssertConforms(1 + 4);
    }

    [ContractFact]
    public async Task Sink_cuts_requests_by_bytes_up_to_2_MB_and_each_conforms()
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("wide", 3000, "dotproduct");
        var rng = new Random(5);
        var records = Enumerable.Range(0, 160).Select(i => Rec($"r{i:D3}", PineconeSinkKit.RandomVector(rng, 3000),
            i % 4 == 0 ? null : new SparseVector([(uint)i], [1f]), $$"""{"i": {{i}}, "pad": "{{new string('p', 2000)}}"}""", ns: "big", schema: Hybrid(3000))).ToList();

        await using (var sink = kit.Sink("wide"))
        {
            await sink.WriteThroughRunnerAsync(records.AsAsync());
        }

        var upserts = kit.Upserts();
        Assert.True(upserts.Count >= 3, $"{upserts.Count} upserts");
        Assert.All(upserts, u => Assert.InRange(u.ContentLength!.Value, 1, PineconeClient.MaxUpsertBytes));
        Assert.True(upserts[0].ContentLength > PineconeClient.MaxUpsertBytes - 100_000, $"{upserts[0].ContentLength} bytes");
        Assert.Equal(160, index.Records("big").Count);
        kit.AssertConforms(1 + upserts.Count);
    }

    [ContractFact]
    public async Task Sink_honours_Retry_After_on_429_and_every_answer_conforms()
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("busy", 2);
        kit.StandIn.FailNext(1, 429, TimeSpan.FromSeconds(1), "/vectors/upsert");
        kit.StandIn.FailNext(1, 503, null, "/vectors/upsert");
        await using var sink = kit.Sink("busy", ns: "n");
        var clock = Stopwatch.StartNew();

        for (var i = 1; i <= 10; i++) await sink.WriteAsync(Rec($"r{i}", [i, 0]));
        await sink.FlushAsync();

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"Retry-After: 1 was not honoured ({clock.Elapsed})");
        Assert.Equal([429, 503, 200], kit.Upserts().Select(r => r.Status));
        Assert.Equal(10, index.Records("n").Count);
        kit.AssertConforms(4);
    }

    [ContractFact]
    public async Task Sink_that_stays_rate_limited_stops_and_every_answer_conforms()
    {
        await using var kit = await StartAsync(retry: new RetryPolicy { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(1) });
        await kit.StandIn.CreateIndexAsync("busy", 2);
        kit.StandIn.FailNext(5, 429, TimeSpan.Zero, "/vectors/upsert");
        await using var sink = kit.Sink("busy");

        var ex = await Assert.ThrowsAsync<VecMigrateException>(async () =>
        {
            await sink.WriteAsync(Rec("a", [1, 2]));
            await sink.FlushAsync();
        });

        Assert.Equal(PineconeErrorIds.UpsertFailed, ex.ErrorId);
        Assert.Equal(PineconeErrorIds.RateLimited, Assert.IsType<VecMigrateException>(ex.InnerException).ErrorId);
        kit.AssertConforms(1 + 2);
    }

    [ContractFact]
    public async Task Sink_refuses_an_incompatible_index_after_a_conforming_describe_and_sends_nothing()
    {
        await using var kit = await StartAsync();
        await kit.StandIn.CreateIndexAsync("dense3", 3, "cosine");
        await kit.StandIn.CreateIndexAsync("sparse", null, "dotproduct");
        var schema = new SourceSchema(SourceKind.Qdrant, "src", IdKinds.Unsigned, [new VectorField("", VectorKind.Dense, 4, DistanceMetric.Cosine)], false, "payload");
        await using var intoDense = kit.Sink("dense3");
        await using var intoSparse = kit.Sink("sparse", byHost: true);
        await using var intoMissing = kit.Sink("absent");
        var record = new VectorRecord(1UL, new Dictionary<string, VectorValue> { [""] = new DenseVector([1, 2, 3, 4]) }, null) { Schema = schema };

        var dimension = await Assert.ThrowsAsync<VecMigrateException>(() => intoDense.WriteAsync(record).AsTask());
        var sparse = await Assert.ThrowsAsync<VecMigrateException>(() => intoSparse.WriteAsync(record).AsTask());
        var missing = await Assert.ThrowsAsync<VecMigrateException>(() => intoMissing.WriteAsync(record).AsTask());

        Assert.Equal([PineconeErrorIds.IndexIncompatible, PineconeErrorIds.IndexIncompatible, PineconeErrorIds.IndexNotFound],
            new[] { dimension.ErrorId, sparse.ErrorId, missing.ErrorId });
        Assert.Empty(kit.Upserts());
        kit.AssertConforms(3);
    }

    // ---------------------------------------------------------------- the wiring catches drift

    [ContractFact]
    public async Task An_upsert_body_that_breaks_the_document_is_recorded_on_the_request_side()
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("docs", 2);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.TryAddWithoutValidation("Api-Key", kit.StandIn.ApiKey);
        http.DefaultRequestHeaders.TryAddWithoutValidation("X-Pinecone-Api-Version", PineconeStandIn.ApiVersion);

        // `values` as strings, an id that is a number, metadata that is a list, an empty sparse vector, a namespace that is not a string.
        using var response = await http.PostAsync(new Uri(index.Url, "vectors/upsert"), new StringContent(
            """{"vectors": [{"id": "a", "values": ["0.5", "0.25"]}, {"id": 7, "values": [1, 2]}, {"id": "c", "values": [1, 2], "metadata": ["x"]}, {"id": "d", "values": [1, 2], "sparseValues": {"indices": [], "values": []}}], "namespace": 3}""",
            Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var violations = kit.StandIn.ContractViolations;
        Assert.All(violations, v => Assert.Equal(ContractDirection.Request, v.Direction));
        Assert.Contains(violations, v => v.InstancePath == "$.vectors[0].values[0]");
        Assert.Contains(violations, v => v.InstancePath == "$.vectors[0].values[1]");
        Assert.Contains(violations, v => v.InstancePath == "$.vectors[1].id");
        Assert.Contains(violations, v => v.InstancePath == "$.vectors[2].metadata");
        Assert.Contains(violations, v => v.InstancePath == "$.vectors[3].sparseValues.indices");
        Assert.Contains(violations, v => v.InstancePath == "$.namespace");
        Assert.Throws<ContractViolationException>(kit.StandIn.EnsureNoContractViolations);
        Assert.Empty(index.Namespaces());
    }

    [ContractFact]
    public void The_upsert_checks_hold_on_both_sides()
    {
        var check = VendorContracts.Load().PineconeCheck();
        const string ok = """{"vectors": [{"id": "a", "values": [0.5, 1e-30], "sparseValues": {"indices": [4000000000], "values": [1]}, "metadata": {"k": "v"}}]}""";
        ContractAssert.NoViolations(check.Check(ContractAssert.Response("POST", "/vectors/upsert", 200, """{"upsertedCount": 1}""", ok)));

        // More than 1,000 vectors; no vectors at all; empty dense values (the fetch allowance does not reach upserts).
        var many = "{\"vectors\": [" + string.Join(",", Enumerable.Range(0, 1001).Select(i => $$"""{"id": "v{{i}}", "values": [1]}""")) + "]}";
        ContractAssert.Single(check.Check(ContractAssert.Request("POST", "/vectors/upsert", many)), "$.vectors", "1000");
        Assert.NotEmpty(check.Check(ContractAssert.Request("POST", "/vectors/upsert", """{"namespace": "x"}""")));
        Assert.NotEmpty(check.Check(ContractAssert.Request("POST", "/vectors/upsert", """{"vectors": [{"id": "a", "values": []}]}""")));
        // The stand-in's side: a count that is not an integer, an error body that is not rpcStatus.
        Assert.Contains(check.Check(ContractAssert.Response("POST", "/vectors/upsert", 200, """{"upsertedCount": "1"}""", ok)),
            v => v.Direction == ContractDirection.Response && v.InstancePath == "$.upsertedCount");
        Assert.Contains(check.Check(ContractAssert.Response("POST", "/vectors/upsert", 429, """{"code": "RESOURCE_EXHAUSTED", "message": "slow down"}""", ok)),
            v => v.Direction == ContractDirection.Response);
    }
}
