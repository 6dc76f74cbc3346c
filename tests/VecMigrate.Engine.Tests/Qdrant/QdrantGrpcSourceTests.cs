using VecMigrate.Engine.Http;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>
/// QdrantSource over the stand-in's gRPC endpoint reads exactly the records it reads over REST: same ids in the
/// same order, vectors bit for bit under the same names and kinds, equal payloads, the same stamp.
/// </summary>
public sealed class QdrantGrpcSourceTests(QdrantStandInFixture fx) : IClassFixture<QdrantStandInFixture>
{
    private QdrantClient GrpcClient(QdrantStandIn? server = null, ApiSecret? key = null)
    {
        server ??= fx.Server;
        return new QdrantClient(server.BaseAddress, key, fx.Transport) { GrpcUrl = server.GrpcBaseAddress };
    }

    private static void AssertSameRecords(IReadOnlyList<VectorRecord> expected, IReadOnlyList<VectorRecord> actual)
    {
        Assert.Equal(expected.Select(r => r.Id), actual.Select(r => r.Id));
        for (var i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var a = actual[i];
            Assert.Equal(e.Position, a.Position);
            Assert.Equal(e.Origin, a.Origin);
            Assert.Same(e.Schema is null ? null : e.Schema.GetType(), a.Schema is null ? null : a.Schema.GetType());
            Assert.Equal((e.Vectors ?? new Dictionary<string, VectorValue>()).Keys.Order(), (a.Vectors ?? new Dictionary<string, VectorValue>()).Keys.Order());
            foreach (var (name, ev) in e.Vectors ?? new Dictionary<string, VectorValue>())
            {
                var av = a.Vectors![name];
                Assert.Equal(ev.Kind, av.Kind);
                switch (ev)
                {
                    case DenseVector d:
                        AssertSameFloats(d.Values, ((DenseVector)av).Values);
                        break;
                    case SparseVector s:
                        Assert.Equal(s.Indices, ((SparseVector)av).Indices);
                        AssertSameFloats(s.Values, ((SparseVector)av).Values);
                        break;
                    case MultiVector m:
                        var am = (MultiVector)av;
                        Assert.Equal(m.Vectors.Length, am.Vectors.Length);
                        for (var j = 0; j < m.Vectors.Length; j++) AssertSameFloats(m.Vectors[j], am.Vectors[j]);
                        break;
                }
            }
            Assert.Equal(e.Payload is null, a.Payload is null);
            if (e.Payload is not null)
                Assert.True(JsonPayload.DeepEquals(e.Payload.Utf8Json.Span, a.Payload!.Utf8Json.Span), $"{e.Payload} vs {a.Payload}");
        }
    }

    private string MixedCollection(int integers, int uuids)
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name,
            [new QdrantStandInVector("img", 5), new QdrantStandInVector("tok", 3, "Dot", Multivector: true)],
            [new QdrantStandInSparse("bm25")]);
        var random = new Random(integers + uuids);
        var records = new List<VectorRecord>();
        for (var i = 0; i < integers + uuids; i++)
        {
            PointId id = i < integers ? PointId.FromUnsigned(i == 0 ? 0UL : i == 1 ? ulong.MaxValue : (ulong)random.NextInt64()) : PointId.FromUuid(Guid.NewGuid());
            var vectors = new Dictionary<string, VectorValue>
            {
                ["img"] = new DenseVector(RandomVector(random, 5)),
                ["tok"] = new MultiVector([RandomVector(random, 3), RandomVector(random, 3)]),
            };
            if (i % 3 != 0) vectors["bm25"] = new SparseVector([(uint)i, (uint)i + 1000], [random.NextSingle(), -random.NextSingle()]);
            var payload = JsonPayload.FromString($$$"""{"i":{{{i}}},"f":{{{(0.1 * i).ToString("R", System.Globalization.CultureInfo.InvariantCulture)}}},"big":{{{long.MaxValue - i}}},"s":"é\u0000{{{i}}}","l":[true,null,{"x":[1.5e300]}],"o":{}}""");
            records.Add(new VectorRecord(id, vectors, payload));
        }
        fx.Server.Seed(name, records);
        return name;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(256)]
    public async Task Grpc_reads_the_same_records_as_rest(int pageSize)
    {
        var name = MixedCollection(40, 25);
        var options = new QdrantReadOptions(name) { PageSize = pageSize };
        using var rest = fx.Client();
        using var grpc = GrpcClient();
        var before = fx.Server.GrpcScrollRequests;
        var overRest = await new QdrantSource(rest).ReadAsync(options).ToListAsync();
        var overGrpc = await new QdrantSource(grpc).ReadAsync(options).ToListAsync();
        Assert.Equal(65, overRest.Count);
        AssertSameRecords(overRest, overGrpc);
        Assert.True(fx.Server.GrpcScrollRequests - before >= 65 / pageSize, "the pages came over gRPC");
    }

    [Fact]
    public async Task Selected_vectors_and_no_payload_read_alike()
    {
        var name = MixedCollection(10, 5);
        var options = new QdrantReadOptions(name) { PageSize = 4, Vectors = QdrantSelection.Only("bm25", "tok"), Payload = QdrantSelection.None };
        using var rest = fx.Client();
        using var grpc = GrpcClient();
        AssertSameRecords(await new QdrantSource(rest).ReadAsync(options).ToListAsync(), await new QdrantSource(grpc).ReadAsync(options).ToListAsync());
    }

    [Fact]
    public async Task Unnamed_vectors_read_alike()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 8));
        var random = new Random(3);
        fx.Server.Seed(name, Enumerable.Range(0, 30).Select(i => Dense((ulong)i * 7, RandomVector(random, 8), $$"""{"n":{{i}}}""")));
        var options = new QdrantReadOptions(name) { PageSize = 8 };
        using var rest = fx.Client();
        using var grpc = GrpcClient();
        AssertSameRecords(await new QdrantSource(rest).ReadAsync(options).ToListAsync(), await new QdrantSource(grpc).ReadAsync(options).ToListAsync());
    }

    [Fact]
    public async Task The_api_key_is_sent_and_never_shown()
    {
        const string key = "grpc-secret-key-123";
        await using var server = await QdrantStandIn.StartAsync(apiKey: key);
        var name = NewCollectionName();
        server.CreateCollection(name, new QdrantStandInVector("", 2));
        server.Seed(name, [Dense(1UL, [1f, 2f])]);
        using (var client = GrpcClient(server, new ApiSecret(key)))
        {
            var page = await client.ScrollAsync(name, new QdrantScrollRequest());
            Assert.Single(page.Points);
        }
        Assert.Equal(1, server.GrpcScrollRequests);
        using (var wrong = GrpcClient(server, new ApiSecret("not-the-key")))
        {
            var ex = await ThrowsQdrant("QdrantUnauthorized", () => wrong.ScrollAsync(name, new QdrantScrollRequest()));
            Assert.Equal(FailureKind.Unauthorized, ex.Kind);
            Assert.DoesNotContain("not-the-key", ex.ToString());
        }
        using var none = GrpcClient(server);
        Assert.Contains("without an API key", (await ThrowsQdrant("QdrantUnauthorized", () => none.ScrollAsync(name, new QdrantScrollRequest()))).Message);
    }

    [Fact]
    public async Task A_missing_collection_is_collection_not_found()
    {
        using var grpc = GrpcClient();
        var ex = await ThrowsQdrant("QdrantCollectionNotFound", () => grpc.ScrollAsync("no_such_" + NewCollectionName(), new QdrantScrollRequest()));
        Assert.Equal(FailureKind.NotFound, ex.Kind);
        Assert.Contains("doesn't exist", ex.Message);
        Assert.Contains("qdrant.Points/Scroll", ex.Target);
    }

    [Fact]
    public async Task Unavailable_rate_limited_and_cut_answers_are_retried()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 3));
        fx.Server.Seed(name, Enumerable.Range(0, 50).Select(i => Dense((ulong)i, [i, -i, 0.5f])));
        using var grpc = GrpcClient();
        var injected = fx.Server.Faults.Injected;
        fx.Server.Faults.FailNext(1, 503, pathEndsWith: "/Scroll");
        fx.Server.Faults.FailNext(1, 429, pathEndsWith: "/Scroll");
        fx.Server.Faults.CutNext(1, 0.5, pathEndsWith: "/Scroll");
        var page = await grpc.ScrollAsync(name, new QdrantScrollRequest { Limit = 100 });
        Assert.Equal(50, page.Points.Count);
        Assert.Equal(injected + 3, fx.Server.Faults.Injected);
        AssertSameFloats([49f, -49f, 0.5f], ((DenseVector)page.Points[49].Vectors![""]).Values);
    }

    [Fact]
    public async Task The_request_is_the_official_ScrollPoints()
    {
        var name = MixedCollection(3, 2);
        using var grpc = GrpcClient();
        var offset = PointId.FromUuid(Guid.Parse("6f1a8c5e-0000-4000-8000-00000000abcd"));
        await grpc.ScrollAsync(name, new QdrantScrollRequest
        {
            Limit = 300,
            Offset = offset,
            WithPayload = QdrantSelection.None,
            WithVector = QdrantSelection.Only("img", "bm25"),
        });
        var sent = global::Qdrant.Client.Grpc.ScrollPoints.Parser.ParseFrom(fx.Server.GrpcScrollBodies[^1]);
        Assert.Equal(name, sent.CollectionName);
        Assert.Equal(300u, sent.Limit);
        Assert.Equal("6f1a8c5e-0000-4000-8000-00000000abcd", sent.Offset.Uuid);
        Assert.False(sent.WithPayload.Enable);
        Assert.Equal(["img", "bm25"], sent.WithVectors.Include.Names);
        Assert.Null(sent.Filter);
    }

    [Fact]
    public async Task A_filter_reads_the_same_points_over_grpc_as_over_rest()
    {
        var name = MixedCollection(40, 25);
        const string filter = """
            {"should": [{"key": "o.x", "match": {"value": "never"}}, {"must_not": {"key": "i", "match": {"value": 3}}}],
             "must_not": [{"has_id": [0, 18446744073709551615, 5]}]}
            """;
        var options = new QdrantReadOptions(name) { PageSize = 7, FilterJson = filter };
        using var rest = fx.Client();
        using var grpc = GrpcClient();
        var overRest = await new QdrantSource(rest).ReadAsync(options).ToListAsync();
        var overGrpc = await new QdrantSource(grpc).ReadAsync(options).ToListAsync();
        Assert.Equal(65 - 3, overRest.Count); // i = 3 and ids 0 and 2^64-1 left out (there is no point 5)
        AssertSameRecords(overRest, overGrpc);
        var sent = global::Qdrant.Client.Grpc.ScrollPoints.Parser.ParseFrom(fx.Server.GrpcScrollBodies[^1]);
        Assert.Equal(3, sent.Filter.MustNot[0].HasId.HasId.Count);
    }

    [Fact]
    public async Task A_filter_that_cannot_be_sent_is_refused_before_any_request()
    {
        using var grpc = GrpcClient();
        var before = fx.Server.Requests;
        var ex = await ThrowsQdrant("QdrantInvalidFilter", () => grpc.ScrollAsync("c", new QdrantScrollRequest { FilterJson = """{"must": {"key": "a", "near": 1}}""" }));
        Assert.Contains("`filter.must`", ex.Message);
        Assert.Equal(before, fx.Server.Requests);
    }
}
