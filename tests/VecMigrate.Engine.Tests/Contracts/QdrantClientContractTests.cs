using System.Net;
using System.Text;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.Contracts;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>
/// The engine's Qdrant client and source driven against a stand-in that checks every exchange against
/// qdrant-openapi.json: our requests (the client's side) and the stand-in's answers (its side), so neither
/// can drift from the real service unnoticed. Each test ends with no violations in a nonzero number of checks.
/// </summary>
public sealed class QdrantClientContractTests : IDisposable
{
    private const string Key = "contract-test-key";

    private readonly RestTransport _transport = new(FastRetry, TimeSpan.FromSeconds(60));

    public void Dispose() => _transport.Dispose();

    private static Task<QdrantStandIn> StartAsync(string? apiKey = null) =>
        QdrantStandIn.StartAsync(apiKey, contracts: VendorContracts.Load().QdrantCheck());

    private QdrantClient Client(QdrantStandIn server, string? apiKey = null) =>
        new(server.BaseAddress, apiKey is null ? null : new ApiSecret(apiKey), _transport);

    /// <summary>No violations, and at least <paramref name="exchanges"/> exchanges were really checked.</summary>
    private static void AssertConforms(QdrantStandIn server, int exchanges)
    {
        var contracts = server.Contracts!;
        contracts.EnsureNoViolations();
        Assert.True(contracts.ExchangesChecked >= exchanges, $"only {contracts.ExchangesChecked} exchange(s) checked, expected {exchanges}");
    }

    private static Dictionary<string, VectorValue> Vectors(params (string Name, VectorValue Value)[] vectors) =>
        vectors.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);

    private static VectorRecord Point(PointId id, string? payload, params (string Name, VectorValue Value)[] vectors) =>
        new(id, Vectors(vectors), payload is null ? null : JsonPayload.FromString(payload));

    // ---------------------------------------------------------------- collections

    [ContractFact]
    public async Task Listing_and_describing_collections_of_every_vector_config_conforms()
    {
        await using var server = await StartAsync();
        server.CreateCollection("unnamed", new QdrantStandInVector("", 384, "Dot", "float16"));
        server.CreateCollection("unnamed-multi", new QdrantStandInVector("", 3, "Cosine", Multivector: true));
        server.CreateCollection("named", new QdrantStandInVector("image", 4, "Euclid"), new QdrantStandInVector("text", 8, "Manhattan", "uint8"));
        server.CreateCollection("sparse-only", [], [new QdrantStandInSparse("bm25", "idf"), new QdrantStandInSparse("splade")]);
        server.CreateCollection("mixed",
            [new QdrantStandInVector("image", 4), new QdrantStandInVector("colbert", 2, "Dot", "float32", Multivector: true)],
            [new QdrantStandInSparse("bm25", "none")]);
        server.Seed("unnamed", [Dense(1UL, new float[384])]);
        using var client = Client(server);

        var names = await client.ListCollectionsAsync();
        var unnamed = await client.GetCollectionAsync("unnamed");
        var multi = await client.GetCollectionAsync("unnamed-multi");
        var named = await client.GetCollectionAsync("named");
        var sparse = await client.GetCollectionAsync("sparse-only");
        var mixed = await client.GetCollectionAsync("mixed");

        Assert.Equal(["mixed", "named", "sparse-only", "unnamed", "unnamed-multi"], names.Order(StringComparer.Ordinal));
        Assert.True(unnamed.HasUnnamedVector);
        Assert.Equal("float16", Assert.Single(unnamed.Vectors).Datatype);
        Assert.True(Assert.Single(multi.Vectors).IsMultivector);
        Assert.Equal(["image", "text"], named.Vectors.Select(v => v.Name));
        Assert.Empty(sparse.Vectors);
        Assert.Equal(["bm25", "splade"], sparse.SparseVectors.Select(s => s.Name));
        Assert.Equal(["image", "colbert"], mixed.Vectors.Select(v => v.Name));
        Assert.Equal("none", Assert.Single(mixed.SparseVectors).Modifier);
        AssertConforms(server, 6);
    }

    // ---------------------------------------------------------------- scroll

    private static readonly Guid U1 = Uuid(0x10, 1), U2 = Uuid(0x80, 2), U3 = Uuid(0xff, 3);

    /// <summary>A collection with a named dense, a multivector and a sparse vector; integer and UUID ids.</summary>
    private static void SeedMixed(QdrantStandIn server, string name)
    {
        server.CreateCollection(name,
            [new QdrantStandInVector("image", 4), new QdrantStandInVector("colbert", 2, "Dot", Multivector: true)],
            [new QdrantStandInSparse("bm25", "idf")]);
        server.Seed(name,
        [
            Point(0UL, """{"city": "Oslo", "n": 0}""", ("image", new DenseVector([0.1f, 0.2f, 0.3f, 0.4f]))),
            Point(7UL, """{"city": "London", "tags": ["a", "b"], "nested": {"x": null, "y": 1.5}}""",
                ("image", new DenseVector([1e-30f, -0f, float.MaxValue, float.Epsilon])),
                ("colbert", new MultiVector([[1f, 2f], [3f, 4f], [5f, 6f]])),
                ("bm25", new SparseVector([3, 1, 900], [0.5f, 0.25f, 1f]))),
            Point(1UL << 63, """{"city": "Paris"}""", ("bm25", new SparseVector([42], [2f]))),
            Point(ulong.MaxValue, """{"city": "London", "n": 3}""", ("colbert", new MultiVector([[0.5f, -0.5f]]))),
            Point(U1, """{"city": "Oslo", "deep": {"a": {"b": [1, {"c": true}]}}}""", ("image", new DenseVector([4f, 3f, 2f, 1f]))),
            Point(U2, "{}", ("image", new DenseVector([0f, 0f, 0f, 1f])), ("bm25", new SparseVector([], []))),
            Point(U3, """{"city": "London", "text": "naïve 日本 \"quoted\" \\ back"}"""),
        ]);
    }

    [ContractFact]
    public async Task Scroll_with_every_option_conforms()
    {
        await using var server = await StartAsync();
        SeedMixed(server, "docs");
        using var client = Client(server);
        const string london = """{"must": [{"key": "city", "match": {"value": "London"}}]}""";

        // limit, defaults (all payload, all vectors), first page then the rest from next_page_offset
        var first = await client.ScrollAsync("docs", new QdrantScrollRequest { Limit = 3 });
        Assert.Equal([0UL, 7UL, 1UL << 63], first.Points.Select(p => p.Id.AsUnsigned));
        Assert.Equal(PointId.FromUnsigned(ulong.MaxValue), first.NextPageOffset);
        var rest = await client.ScrollAsync("docs", new QdrantScrollRequest { Limit = 10, Offset = first.NextPageOffset });
        Assert.Equal(4, rest.Points.Count);
        Assert.Null(rest.NextPageOffset);

        // offset as an integer and as a UUID (next_page_offset comes back as a UUID)
        var fromInt = await client.ScrollAsync("docs", new QdrantScrollRequest { Limit = 2, Offset = 7UL });
        Assert.Equal(PointId.FromUnsigned(ulong.MaxValue), fromInt.NextPageOffset);
        var toUuid = await client.ScrollAsync("docs", new QdrantScrollRequest { Limit = 1, Offset = ulong.MaxValue });
        Assert.Equal(PointId.FromUuid(U1), toUuid.NextPageOffset);
        var fromUuid = await client.ScrollAsync("docs", new QdrantScrollRequest { Limit = 2, Offset = U1 });
        Assert.Equal([U1, U2], fromUuid.Points.Select(p => p.Id.AsUuid));
        Assert.Equal(PointId.FromUuid(U3), fromUuid.NextPageOffset);
        var fromNil = await client.ScrollAsync("docs", new QdrantScrollRequest { Limit = 1, Offset = Guid.Empty });
        Assert.Equal(U1, Assert.Single(fromNil.Points).Id.AsUuid);

        // filters: match, should, must_not with has_id (integer and UUID ids), nested
        var inLondon = await client.ScrollAsync("docs", new QdrantScrollRequest { FilterJson = london });
        Assert.Equal(3, inLondon.Points.Count);
        var either = await client.ScrollAsync("docs", new QdrantScrollRequest
        {
            FilterJson = """{"should": [{"key": "city", "match": {"value": "Paris"}}, {"key": "n", "match": {"value": 0}}]}""",
        });
        Assert.Equal(2, either.Points.Count);
        var notThese = await client.ScrollAsync("docs", new QdrantScrollRequest
        {
            FilterJson = $$$"""{"must_not": [{"has_id": [0, 18446744073709551615, "{{{U2}}}"]}], "must": [{"should": [{"key": "city", "match": {"value": "London"}}]}]}""",
        });
        Assert.Equal([PointId.FromUnsigned(7), PointId.FromUuid(U3)], notThese.Points.Select(p => p.Id));

        // with_payload: false and a list; with_vector: false and a list (dense and sparse names)
        var bare = await client.ScrollAsync("docs", new QdrantScrollRequest { WithPayload = QdrantSelection.None, WithVector = QdrantSelection.None });
        Assert.All(bare.Points, p => Assert.Null(p.Payload));
        Assert.All(bare.Points, p => Assert.Empty(p.Vectors));
        var some = await client.ScrollAsync("docs", new QdrantScrollRequest
        {
            WithPayload = QdrantSelection.Only("city", "tags"),
            WithVector = QdrantSelection.Only("image", "bm25"),
        });
        var seven = some.Points.Single(p => p.Id == PointId.FromUnsigned(7));
        Assert.Equal(["bm25", "image"], seven.Vectors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("""{"city":"London","tags":["a","b"]}""", seven.Payload!.ToString());
        var onlyPayload = await client.ScrollAsync("docs", new QdrantScrollRequest { WithPayload = QdrantSelection.All, WithVector = QdrantSelection.None, Limit = 1 });
        Assert.Empty(Assert.Single(onlyPayload.Points).Vectors);
        var onlyVectors = await client.ScrollAsync("docs", new QdrantScrollRequest { WithPayload = QdrantSelection.None, WithVector = QdrantSelection.Only("colbert"), Limit = 2 });
        Assert.IsType<MultiVector>(onlyVectors.Points[1].Vectors["colbert"]);

        AssertConforms(server, 13);
    }

    [ContractFact]
    public async Task Scroll_of_unnamed_dense_and_multivector_collections_conforms()
    {
        await using var server = await StartAsync();
        server.CreateCollection("dense", new QdrantStandInVector("", 3));
        server.CreateCollection("multi", new QdrantStandInVector("", 2, Multivector: true));
        server.Seed("dense", [Dense(5UL, [1f, 2f, 3f], """{"k": 1}"""), Dense(U1, [-1f, 0.5f, 1e-7f])]);
        server.Seed("multi", [Point(1UL, null, ("", new MultiVector([[1f, 2f], [3f, 4f]])))]);
        using var client = Client(server);

        var dense = await client.ScrollAsync("dense", new QdrantScrollRequest { WithVector = QdrantSelection.Only("") });
        var multi = await client.ScrollAsync("multi", new QdrantScrollRequest());

        Assert.Equal([1f, 2f, 3f], dense.Points[0].Embedding!);
        Assert.IsType<MultiVector>(Assert.Single(multi.Points).Vectors[""]);
        AssertConforms(server, 2);
    }

    // ---------------------------------------------------------------- errors

    [ContractFact]
    public async Task Missing_collection_answers_404_as_documented()
    {
        await using var server = await StartAsync();
        using var client = Client(server);

        await ThrowsQdrant("QdrantCollectionNotFound", () => client.GetCollectionAsync("nope"));
        await ThrowsQdrant("QdrantCollectionNotFound", () => client.ScrollAsync("nope", new QdrantScrollRequest()));

        AssertConforms(server, 2);
    }

    [ContractFact]
    public async Task Missing_and_wrong_api_keys_get_qdrants_plain_401_under_the_allowance_only()
    {
        await using var server = await StartAsync(Key);
        server.CreateCollection("docs", new QdrantStandInVector("", 2));
        using var noKey = Client(server);
        using var wrongKey = Client(server, "not-the-key");
        using var rightKey = Client(server, Key);

        var missing = await ThrowsQdrant("QdrantUnauthorized", () => noKey.ListCollectionsAsync());
        Assert.Contains("Must provide an API key", missing.Message, StringComparison.Ordinal);
        var wrong = await ThrowsQdrant("QdrantUnauthorized", () => wrongKey.ScrollAsync("docs", new QdrantScrollRequest()));
        Assert.Contains("Invalid API key", wrong.Message, StringComparison.Ordinal);
        Assert.Single(await rightKey.ListCollectionsAsync());

        AssertConforms(server, 3);
    }

    [ContractFact]
    public async Task Requests_qdrant_refuses_get_documented_400_and_422_answers()
    {
        await using var server = await StartAsync();
        SeedMixed(server, "docs");
        using var client = Client(server);

        // Both requests are what the document allows; Qdrant refuses them for what is (not) in the collection
        // and for a condition without a match, and says so in the documented envelope.
        var noSuchVector = await ThrowsQdrant("QdrantBadRequest", () =>
            client.ScrollAsync("docs", new QdrantScrollRequest { WithVector = QdrantSelection.Only("nope") }));
        Assert.Contains("Not existing vector name", noSuchVector.Message, StringComparison.Ordinal);
        var noCondition = await ThrowsQdrant("QdrantBadRequest", () =>
            client.ScrollAsync("docs", new QdrantScrollRequest { FilterJson = """{"must": [{"key": "city"}]}""" }));
        Assert.Contains("At least one field condition", noCondition.Message, StringComparison.Ordinal);

        AssertConforms(server, 2);
    }

    [ContractFact]
    public async Task Queries_for_search_parity_and_their_refusals_conform()
    {
        await using var server = await StartAsync();
        server.CreateCollection("named", new QdrantStandInVector("image", 3, "Euclid"), new QdrantStandInVector("text", 2, "Dot"));
        server.Seed("named", Enumerable.Range(0, 20).Select(i => Point((ulong)i, $$"""{"namespace":"{{(i % 2 == 0 ? "even" : "odd")}}"}""",
            ("image", new DenseVector([i, 0, 0])), ("text", new DenseVector([1, i])))));
        server.Seed("named", [Point(Uuid(0xAB, 1), """{"namespace":"even"}""", ("image", new DenseVector([5.25f, 0, 0])), ("text", new DenseVector([1, 0])))]);
        using var client = Client(server);

        var near = await client.QueryAsync("named", "image", [5.5f, 0, 0], 3, exact: true);
        var even = await client.QueryAsync("named", "image", [5.5f, 0, 0], 3, exact: false, "namespace", "even");
        var dot = await client.QueryAsync("named", "text", [0, 1], 2, exact: true);

        Assert.Equal([PointId.FromUuid(Uuid(0xAB, 1)), PointId.FromUnsigned(5), PointId.FromUnsigned(6)], near.Select(h => h.Id));
        Assert.Equal([0.25, 0.5, 0.5], near.Select(h => h.Score)); // Euclid: the distance, nearest first; ties in id order
        Assert.Equal([PointId.FromUuid(Uuid(0xAB, 1)), PointId.FromUnsigned(6), PointId.FromUnsigned(4)], even.Select(h => h.Id));
        Assert.Equal([(PointId.FromUnsigned(19), 19.0), (PointId.FromUnsigned(18), 18.0)], dot);
        var wrongDimension = await ThrowsQdrant("QdrantBadRequest", () => client.QueryAsync("named", "image", [1, 2], 3, exact: true));
        Assert.Contains("Vector dimension error: expected dim: 3, got 2", wrongDimension.Message, StringComparison.Ordinal);
        await ThrowsQdrant("QdrantBadRequest", () => client.QueryAsync("named", "", [1, 2, 3], 3, exact: true));
        await ThrowsQdrant("QdrantCollectionNotFound", () => client.QueryAsync("nope", "image", [1, 2, 3], 3, exact: true));

        Assert.Equal(5, server.QueryRequests); // the missing collection's query never reached the query handler
        AssertConforms(server, 6);
    }

    [ContractFact]
    public async Task A_filter_with_a_field_qdrant_does_not_know_is_passed_through_and_flagged_as_ours()
    {
        await using var server = await StartAsync();
        SeedMixed(server, "docs");
        using var client = Client(server);

        // The client passes filters through unchanged and leaves judging them to Qdrant (deny_unknown_fields: 400);
        // the document forbids the field too, so the check puts the fault on the request, not on the answer.
        var ex = await ThrowsQdrant("QdrantBadRequest", () =>
            client.ScrollAsync("docs", new QdrantScrollRequest { FilterJson = """{"must": [], "must_all": []}""" }));
        Assert.Contains("unknown field `must_all`", ex.Message, StringComparison.Ordinal);

        var v = Assert.Single(server.Contracts!.Violations);
        Assert.Equal(ContractDirection.Request, v.Direction);
        Assert.Equal("$.filter.must_all", v.InstancePath);
    }

    [ContractFact]
    public async Task Retried_429_and_503_answers_conform_too()
    {
        await using var server = await StartAsync();
        server.CreateCollection("docs", new QdrantStandInVector("", 2));
        server.Seed("docs", [Dense(1UL, [1f, 2f])]);
        server.Faults.FailNext(1, 429, TimeSpan.Zero, "/scroll");
        server.Faults.FailNext(1, 503, null, "/scroll");
        using var client = Client(server);

        var page = await client.ScrollAsync("docs", new QdrantScrollRequest());

        Assert.Single(page.Points);
        Assert.Equal(2, server.Faults.Injected);
        AssertConforms(server, 3);
    }

    // ---------------------------------------------------------------- the source, end to end

    [ContractFact]
    public async Task Source_reads_mixed_ids_and_every_vector_shape_over_many_pages_and_conforms()
    {
        await using var server = await StartAsync();
        server.CreateCollection("all",
            [new QdrantStandInVector("image", 8), new QdrantStandInVector("colbert", 3, "Dot", Multivector: true)],
            [new QdrantStandInSparse("bm25", "idf")]);
        var random = new Random(7);
        var points = new List<VectorRecord>();
        ulong[] ints = [0, 1, 2, 9_007_199_254_740_993, 1UL << 63, ulong.MaxValue - 1, ulong.MaxValue];
        for (var i = 0; i < 45; i++)
        {
            var id = i < ints.Length ? PointId.FromUnsigned(ints[i])
                : i % 2 == 0 ? PointId.FromUnsigned((ulong)(1000 + i)) : PointId.FromUuid(Uuid((byte)(i * 5), i));
            var vectors = new List<(string, VectorValue)>();
            if (i % 3 != 0) vectors.Add(("image", new DenseVector(RandomVector(random, 8))));
            if (i % 4 != 1) vectors.Add(("colbert", new MultiVector(Enumerable.Range(0, 1 + i % 3).Select(_ => RandomVector(random, 3)).ToArray())));
            if (i % 5 != 2) vectors.Add(("bm25", new SparseVector([(uint)i, (uint)(i + 100)], [random.NextSingle(), random.NextSingle()])));
            points.Add(Point(id, $$"""{"i": {{i}}, "name": "p{{i}}", "even": {{(i % 2 == 0 ? "true" : "false")}}, "list": [{{i}}, "x"]}""", vectors.ToArray()));
        }
        server.Seed("all", points);
        using var client = Client(server);
        var source = new QdrantSource(client);

        var read = await source.ReadAsync(new QdrantReadOptions("all") { PageSize = 7 }).ToListAsync();

        RecordAssert.SameSet(server.Points("all"), read);
        Assert.Equal(server.Points("all").Select(p => p.Id), read.Select(r => r.Id));
        // 2 id-kind probes + 7 pages of 7 (the last one shorter); with the describe, 10 exchanges.
        Assert.Equal(9, server.ScrollRequests);
        AssertConforms(server, 10);
    }

    [ContractFact]
    public async Task Source_with_a_filter_and_selections_conforms()
    {
        await using var server = await StartAsync();
        SeedMixed(server, "docs");
        using var client = Client(server);
        var source = new QdrantSource(client);

        var read = await source.ReadAsync(new QdrantReadOptions("docs")
        {
            PageSize = 1,
            FilterJson = """{"must": [{"key": "city", "match": {"value": "London"}}]}""",
            Payload = QdrantSelection.Only("city"),
            Vectors = QdrantSelection.Only("colbert", "bm25"),
        }).ToListAsync();

        Assert.Equal([PointId.FromUnsigned(7), PointId.FromUnsigned(ulong.MaxValue), PointId.FromUuid(U3)], read.Select(r => r.Id));
        AssertConforms(server, 5);
    }

    [ContractFact]
    public async Task Sampling_passes_through_to_the_host()
    {
        await using var server = await QdrantStandIn.StartAsync(contracts: VendorContracts.Load().QdrantCheck(),
            sampling: ContractSampling.Every(4, first: 2));
        server.CreateCollection("docs", new QdrantStandInVector("", 2));
        using var client = Client(server);

        for (var i = 0; i < 10; i++) await client.ScrollAsync("docs", new QdrantScrollRequest());

        // The first 2, then numbers 4 and 8.
        Assert.Equal(10, server.Contracts!.ExchangesSeen);
        Assert.Equal(4, server.Contracts.ExchangesChecked);
        server.Contracts.EnsureNoViolations();
    }

    // ---------------------------------------------------------------- the wiring catches drift

    [ContractFact]
    public async Task A_request_that_breaks_the_document_is_recorded_so_the_checks_cannot_pass_silently()
    {
        await using var server = await StartAsync();
        server.CreateCollection("docs", new QdrantStandInVector("", 2));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        // limit as a string, with_vector as a number, offset negative, and a query parameter Qdrant does not have.
        using var response = await http.PostAsync("collections/docs/points/scroll?page=2",
            new StringContent("""{"limit": "10", "offset": -1, "with_vector": 3}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var violations = server.Contracts!.Violations;
        Assert.All(violations, v => Assert.Equal(ContractDirection.Request, v.Direction));
        Assert.Contains(violations, v => v.InstancePath == "?page");
        Assert.Contains(violations, v => v.InstancePath == "$.limit");
        Assert.Contains(violations, v => v.InstancePath == "$.offset");
        Assert.Contains(violations, v => v.InstancePath == "$.with_vector");
        Assert.Throws<ContractViolationException>(server.Contracts.EnsureNoViolations);
    }

    [ContractFact]
    public void The_401_allowance_is_narrow()
    {
        var check = VendorContracts.Load().QdrantCheck();
        ContractExchange Answer(int status, string? contentType, string body) => new("GET", "/collections")
        {
            Status = status,
            ResponseContentType = contentType,
            ResponseBody = Encoding.UTF8.GetBytes(body),
        };

        // What real Qdrant sends: 401, no Content-Type, plain text.
        Assert.Empty(check.Check(Answer(401, null, "Invalid API key or JWT")));
        // Not covered: other statuses, a declared text/plain, a JSON body that breaks the schema, other vendors.
        Assert.NotEmpty(check.Check(Answer(403, null, "Invalid API key or JWT")));
        Assert.NotEmpty(check.Check(Answer(404, null, "Not found")));
        Assert.NotEmpty(check.Check(Answer(401, "text/plain; charset=utf-8", "Invalid API key or JWT")));
        Assert.NotEmpty(check.Check(Answer(401, null, """{"status": {"error": 5}}""")));
        Assert.NotEmpty(check.Check(Answer(401, "application/json", "Invalid API key or JWT")));
        var pinecone = VendorContracts.Load().PineconeCheck();
        Assert.NotEmpty(pinecone.Check(new ContractExchange("GET", "/indexes")
        {
            Status = 401,
            ResponseBody = "Unauthorized"u8.ToArray(),
        }));
    }
}
