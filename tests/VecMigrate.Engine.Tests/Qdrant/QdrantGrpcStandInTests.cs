using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Qdrant.Client.Grpc;
using VecMigrate.Engine.Records;
using DenseVector = VecMigrate.Engine.Records.DenseVector;
using PointId = VecMigrate.Engine.Records.PointId;
using SparseVector = VecMigrate.Engine.Records.SparseVector;
using GrpcPointId = Qdrant.Client.Grpc.PointId;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>
/// The Qdrant stand-in's gRPC Scroll, spoken to with the official client's generated stubs and messages
/// (Qdrant.Client.Grpc, from Qdrant's own .proto files) over cleartext HTTP/2; the trailers-only framing of errors
/// is checked with a plain HttpClient.
/// </summary>
public sealed class QdrantGrpcStandInTests : IDisposable
{
    private readonly HttpClient _http = new();
    private readonly List<GrpcChannel> _channels = [];

    public void Dispose()
    {
        _http.Dispose();
        foreach (var c in _channels) c.Dispose();
    }

    // ---------------------------------------------------------------- pages

    [Fact]
    public async Task Pages_walk_ints_then_uuids_with_next_page_offset()
    {
        await using var server = await QdrantStandIn.StartAsync();
        server.CreateCollection("c", new QdrantStandInVector("", 2));
        var ids = new List<PointId>();
        for (ulong i = 0; i < 5; i++) ids.Add(PointId.FromUnsigned(i == 4 ? ulong.MaxValue : i * 7));
        for (var i = 0; i < 4; i++) ids.Add(PointId.FromUuid(Uuid((byte)(0x10 * i), i)));
        server.Seed("c", ids.Select(id => Dense(id, [1f, 2f])));
        var expected = server.Points("c").Select(p => p.Id).ToList();

        var seen = new List<PointId>();
        PointId? offset = null;
        var pages = 0;
        do
        {
            var answer = await CallAsync(server, Scroll("c", offset, limit: 2));
            Assert.Equal(0, answer.Status);
            var page = Response(answer.Message);
            Assert.True(page.Points.Count <= 2);
            Assert.True(page.Time > 0);
            seen.AddRange(page.Points.Select(p => p.Id));
            offset = page.Next;
            if (offset is { } n) Assert.Equal(expected[seen.Count], n); // the first point not returned
            pages++;
        } while (offset is not null);
        Assert.Equal(expected, seen);
        Assert.Equal(5, pages);
        Assert.Equal(5, server.GrpcScrollRequests);
        Assert.Equal(5, server.GrpcScrollBodies.Count);
        Assert.Equal(Scroll("c", limit: 2), ScrollPoints.Parser.ParseFrom(server.GrpcScrollBodies[0]));
        Assert.Equal(0, server.ScrollRequests);
        Assert.Equal(9, server.PointsServed);
    }

    [Fact]
    public async Task Default_limit_is_ten_and_payload_shown_vectors_not()
    {
        await using var server = await QdrantStandIn.StartAsync();
        server.CreateCollection("c", new QdrantStandInVector("", 2));
        server.Seed("c", Enumerable.Range(1, 12).Select(i => Dense((ulong)i, [i, 0f], "{\"n\":" + i + "}")));
        var page = Response((await CallAsync(server, Scroll("c"))).Message);
        Assert.Equal(10, page.Points.Count);
        Assert.Equal(PointId.FromUnsigned(11), page.Next);
        Assert.All(page.Points, p => Assert.Null(p.Vectors));
        Assert.Equal(1L, page.Points[0].Payload["n"]);
    }

    // ---------------------------------------------------------------- vectors

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Unnamed_dense_comes_as_the_bare_vector_in_dense_only(bool preRender)
    {
        await using var server = await QdrantStandIn.StartAsync();
        server.PreRender = preRender;
        server.CreateCollection("c", new QdrantStandInVector("", 1024));
        var random = new Random(5);
        var vectors = Enumerable.Range(0, 40).Select(_ => RandomVector(random, 1024)).ToArray();
        server.Seed("c", vectors.Select((v, i) => Dense((ulong)i, v)));
        var page = Response((await CallAsync(server, Scroll("c", limit: 40, withVectors: true, withPayload: false))).Message);
        Assert.Equal(40, page.Points.Count);
        for (var i = 0; i < 40; i++)
        {
            var v = page.Points[i].Vectors!;
            Assert.True(v.Single);
            var dense = Assert.IsType<DenseVector>(v.Named[""]);
            AssertSameFloats(vectors[i], dense.Values);
            Assert.Empty(page.Points[i].Payload);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Named_dense_sparse_and_multivector_come_as_the_map(bool preRender)
    {
        await using var server = await QdrantStandIn.StartAsync();
        server.PreRender = preRender;
        server.CreateCollection("c",
            [new QdrantStandInVector("image", 3), new QdrantStandInVector("colbert", 2, "Dot", Multivector: true)],
            [new QdrantStandInSparse("bm25")]);
        server.Seed("c",
        [
            new VectorRecord(1UL, new Dictionary<string, VectorValue>
            {
                ["image"] = new DenseVector([0.5f, -1.25f, 3f]),
                ["colbert"] = new MultiVector([[1f, 2f], [3f, 4f], [5f, 6f]]),
                ["bm25"] = new SparseVector([9, 2, 300], [0.1f, 0.2f, 0.3f]),
            }, null),
            new VectorRecord(2UL, new Dictionary<string, VectorValue> { ["image"] = new DenseVector([1f, 1f, 1f]), ["bm25"] = new SparseVector([], []) }, null),
        ]);

        var page = Response((await CallAsync(server, Scroll("c", withVectors: true))).Message);
        var first = page.Points[0].Vectors!;
        Assert.False(first.Single);
        Assert.Equal(["image", "colbert", "bm25"], first.Named.Keys);
        Assert.Equal([0.5f, -1.25f, 3f], Assert.IsType<DenseVector>(first.Named["image"]).Values);
        var multi = Assert.IsType<MultiVector>(first.Named["colbert"]);
        Assert.Equal(3, multi.Vectors.Length);
        Assert.Equal([5f, 6f], multi.Vectors[2]);
        var sparse = Assert.IsType<SparseVector>(first.Named["bm25"]);
        Assert.Equal([2u, 9u, 300u], sparse.Indices); // stored sorted by index, as Qdrant does
        Assert.Equal([0.2f, 0.1f, 0.3f], sparse.Values);
        var second = page.Points[1].Vectors!;
        Assert.Equal(["image", "bm25"], second.Named.Keys); // a point without a vector leaves it out
        Assert.Empty(Assert.IsType<SparseVector>(second.Named["bm25"]).Indices);

        var only = Response((await CallAsync(server, Scroll("c", vectorNames: ["bm25"]))).Message);
        Assert.Equal(["bm25"], only.Points[0].Vectors!.Named.Keys);
        Assert.False(only.Points[0].Vectors!.Single);

        var unknown = await CallAsync(server, Scroll("c", vectorNames: ["nope"]));
        Assert.Equal(3, unknown.Status);
        Assert.Equal("Wrong input: Not existing vector name error: nope", unknown.Message2);
    }

    [Fact]
    public async Task Unnamed_multivector_comes_as_the_bare_vector()
    {
        await using var server = await QdrantStandIn.StartAsync();
        server.CreateCollection("c", new QdrantStandInVector("", 2, Multivector: true));
        server.Seed("c", [new VectorRecord(1UL, new Dictionary<string, VectorValue> { [""] = new MultiVector([[1f, 2f], [3f, 4f]]) }, null)]);
        var page = Response((await CallAsync(server, Scroll("c", withVectors: true))).Message);
        Assert.True(page.Points[0].Vectors!.Single);
        Assert.Equal([3f, 4f], Assert.IsType<MultiVector>(page.Points[0].Vectors!.Named[""]).Vectors[1]);
    }

    // ---------------------------------------------------------------- payload

    [Fact]
    public async Task Payload_values_of_every_json_type_map_as_qdrant_does()
    {
        await using var server = await QdrantStandIn.StartAsync();
        server.CreateCollection("c", new QdrantStandInVector("", 2));
        server.Seed("c",
        [
            Dense(1UL, [1f, 2f], """
                {"s":"héllo","empty":"","i":42,"neg":-7,"zero":0,"max":9223372036854775807,"u64":18446744073709551615,
                 "huge":123456789012345678901234567890,"f":1.5,"whole":2.0,"exp":1e2,"negzero":-0,"t":true,"no":false,"n":null,
                 "o":{"a":1,"b":{"c":[]}},"l":[1,"two",null,{}],"":"blank key"}
                """),
            Dense(2UL, [1f, 2f]),
        ]);
        var page = Response((await CallAsync(server, Scroll("c"))).Message);
        var p = page.Points[0].Payload;
        Assert.Equal("héllo", p["s"]);
        Assert.Equal("", p["empty"]);
        Assert.Equal(42L, p["i"]);
        Assert.Equal(-7L, p["neg"]);
        Assert.Equal(0L, p["zero"]);
        Assert.Equal(long.MaxValue, p["max"]);
        Assert.Equal(18446744073709551615d, p["u64"]); // beyond i64: a double
        Assert.Equal(1.2345678901234568E+29, p["huge"]);
        Assert.Equal(1.5d, p["f"]);
        Assert.Equal(2.0d, p["whole"]);
        Assert.Equal(100d, p["exp"]);
        Assert.True(double.IsNegative((double)p["negzero"]!));
        Assert.Equal(true, p["t"]);
        Assert.Equal(false, p["no"]);
        Assert.Same(JsonNull, p["n"]);
        var o = Assert.IsType<Dictionary<string, object?>>(p["o"]);
        Assert.Equal(1L, o["a"]);
        Assert.Empty(Assert.IsType<List<object?>>(Assert.IsType<Dictionary<string, object?>>(o["b"])["c"]));
        var l = Assert.IsType<List<object?>>(p["l"]);
        Assert.Equal([1L, "two", JsonNull], l.Take(3));
        Assert.Empty(Assert.IsType<Dictionary<string, object?>>(l[3]));
        Assert.Equal("blank key", p[""]);
        Assert.Empty(page.Points[1].Payload); // no payload: an empty map

        var none = Response((await CallAsync(server, Scroll("c", withPayload: false))).Message);
        Assert.Empty(none.Points[0].Payload);
        var some = Response((await CallAsync(server, Scroll("c", include: ["s", "i", "missing"]))).Message);
        Assert.Equal(["s", "i"], some.Points[0].Payload.Keys);
        var rest = Response((await CallAsync(server, Scroll("c", exclude: ["s"]))).Message);
        Assert.False(rest.Points[0].Payload.ContainsKey("s"));
        Assert.True(rest.Points[0].Payload.ContainsKey("i"));
    }

    // ---------------------------------------------------------------- errors

    [Fact]
    public async Task Missing_collection_is_not_found_trailers_only()
    {
        await using var server = await QdrantStandIn.StartAsync();
        var body = Scroll("nope").ToByteArray();
        var framed = new byte[body.Length + 5];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)body.Length);
        body.CopyTo(framed, 5);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.GrpcBaseAddress, "qdrant.Points/Scroll"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(framed),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("5", response.Headers.GetValues("grpc-status").Single()); // trailers-only: the status is in the headers
        Assert.Equal("Not found: Collection `nope` doesn't exist!", Uri.UnescapeDataString(response.Headers.GetValues("grpc-message").Single()));
        Assert.Equal(5, (await CallAsync(server, Scroll("nope"))).Status);
    }

    [Fact]
    public async Task Api_key_missing_or_wrong_is_unauthenticated()
    {
        await using var server = await QdrantStandIn.StartAsync(apiKey: "secret");
        server.CreateCollection("c", new QdrantStandInVector("", 2));
        var missing = await CallAsync(server, Scroll("c"));
        Assert.Equal(16, missing.Status);
        Assert.Equal("Must provide an API key or an Authorization bearer token", missing.Message2);
        var wrong = await CallAsync(server, Scroll("c"), apiKey: "guess");
        Assert.Equal(16, wrong.Status);
        Assert.Equal("Invalid API key or JWT", wrong.Message2);
        var unknownMethod = await CallAsync(server, Scroll("c"), method: "qdrant.Points/Search");
        Assert.Equal(16, unknownMethod.Status); // the auth layer runs before routing
        Assert.Equal(0, (await CallAsync(server, Scroll("c"), apiKey: "secret")).Status);
        Assert.Equal(0, (await CallAsync(server, Scroll("c"), bearer: "secret")).Status);
        Assert.Equal(2, server.GrpcScrollRequests); // refusals not counted
    }

    [Fact]
    public async Task Bad_arguments_and_unknown_methods()
    {
        await using var server = await QdrantStandIn.StartAsync();
        server.CreateCollection("c", new QdrantStandInVector("", 2));
        var zero = await CallAsync(server, Scroll("c", limit: 0));
        Assert.Equal(3, zero.Status);
        Assert.Equal("Validation error in body: [limit: value 0 invalid, must be 1 or larger]", zero.Message2);
        var ranged = new Filter { Must = { Conditions.Range("a", new global::Qdrant.Client.Grpc.Range { Gte = 1 }) } };
        var filtered = await CallAsync(server, Scroll("c", filter: ranged));
        Assert.Equal(3, filtered.Status);
        Assert.Contains("stand-in", filtered.Message2);
        Assert.Equal(0, (await CallAsync(server, Scroll("c", filter: new Filter()))).Status);
        Assert.Equal(0, (await CallAsync(server, Scroll("c", filter: new Filter { Must = { Conditions.MatchKeyword("a", "b") } }))).Status);
        var unnamed = await CallAsync(server, Scroll(""));
        Assert.Equal(3, unnamed.Status);
        Assert.Equal("Validation error in body: [collection_name: value \"\" invalid, must be from 1 to 255 characters]", unnamed.Message2);
        var empty = Scroll("c");
        empty.WithPayload = new WithPayloadSelector();
        var noSelector = await CallAsync(server, empty);
        Assert.Equal(3, noSelector.Status);
        Assert.Equal("No PayloadSelector", noSelector.Message2);
        var unknown = await CallAsync(server, Scroll("c"), method: "qdrant.Points/Search");
        Assert.Equal(12, unknown.Status);
        Assert.Equal(2, server.GrpcScrollRequests); // the two filtered reads
    }

    [Fact]
    public async Task Injected_faults_answer_as_grpc_statuses()
    {
        await using var server = await QdrantStandIn.StartAsync();
        server.CreateCollection("c", new QdrantStandInVector("", 2));
        server.Seed("c", Enumerable.Range(1, 50).Select(i => Dense((ulong)i, [i, 1f])));
        server.Faults.FailNext(1, 429, TimeSpan.FromSeconds(1.5), pathEndsWith: "/Scroll");
        server.Faults.FailNext(1, 503);
        var limited = await CallAsync(server, Scroll("c"));
        Assert.Equal(8, limited.Status); // RESOURCE_EXHAUSTED, as Qdrant's rate limiter
        Assert.Equal("Rate limiting exceeded: injected by the Qdrant stand-in", limited.Message2);
        Assert.Equal("2", limited.RetryAfter);
        var unavailable = await CallAsync(server, Scroll("c"));
        Assert.Equal(14, unavailable.Status);
        server.Faults.CutNext(1, 0.5);
        Assert.NotEqual(0, (await CallAsync(server, Scroll("c", limit: 50, withVectors: true))).Status);
        Assert.Equal(0, (await CallAsync(server, Scroll("c"))).Status);
        Assert.Equal(3, server.Faults.Injected);
    }

    // ---------------------------------------------------------------- through the official client

    private sealed record Answer(int Status, string? Message2, ScrollResponse? Message, string? RetryAfter);

    private async Task<Answer> CallAsync(QdrantStandIn server, ScrollPoints request, string? apiKey = null, string? bearer = null,
        string method = "qdrant.Points/Scroll")
    {
        var channel = GrpcChannel.ForAddress(server.GrpcBaseAddress);
        _channels.Add(channel);
        var client = new QdrantGrpcClient(channel);
        var headers = new Metadata();
        if (apiKey is not null) headers.Add("api-key", apiKey);
        if (bearer is not null) headers.Add("authorization", "Bearer " + bearer);
        try
        {
            if (method == "qdrant.Points/Search")
            {
#pragma warning disable CS0612 // deprecated in favour of Query, and therefore a call the stand-in does not serve
                await client.Points.SearchAsync(new SearchPoints { CollectionName = request.CollectionName, Limit = 1 }, headers);
#pragma warning restore CS0612
                return new Answer(0, null, null, null);
            }
            Assert.Equal("qdrant.Points/Scroll", method);
            var answer = await client.Points.ScrollAsync(request, headers);
            return new Answer(0, null, answer, null);
        }
        catch (RpcException e)
        {
            return new Answer((int)e.StatusCode, e.Status.Detail, null, e.Trailers.GetValue("retry-after"));
        }
    }

    /// <summary>A ScrollPoints message.</summary>
    private static ScrollPoints Scroll(string collection, PointId? offset = null, uint? limit = null, bool? withPayload = null,
        string[]? include = null, string[]? exclude = null, bool? withVectors = null, string[]? vectorNames = null,
        Filter? filter = null)
    {
        var request = new ScrollPoints { CollectionName = collection, Timeout = 30 };
        if (filter is not null) request.Filter = filter;
        if (offset is { } id) request.Offset = GrpcId(id);
        if (limit is { } l) request.Limit = l;
        if (withPayload is { } wp) request.WithPayload = new WithPayloadSelector { Enable = wp };
        if (include is not null) request.WithPayload = new WithPayloadSelector { Include = new PayloadIncludeSelector { Fields = { include } } };
        if (exclude is not null) request.WithPayload = new WithPayloadSelector { Exclude = new PayloadExcludeSelector { Fields = { exclude } } };
        if (withVectors is { } wv) request.WithVectors = new WithVectorsSelector { Enable = wv };
        if (vectorNames is not null) request.WithVectors = new WithVectorsSelector { Include = new VectorsSelector { Names = { vectorNames } } };
        return request;
    }

    private static GrpcPointId GrpcId(PointId id) => id.Kind == PointIdKind.Unsigned
        ? new GrpcPointId { Num = id.AsUnsigned }
        : new GrpcPointId { Uuid = id.AsUuid.ToString("D") };

    // ---------------------------------------------------------------- ScrollResponse as plain values

    private static readonly object JsonNull = new();

    private sealed record Vectors(bool Single, Dictionary<string, VectorValue> Named);

    private sealed record Retrieved(PointId Id, Dictionary<string, object?> Payload, Vectors? Vectors);

    private sealed record Page(PointId? Next, List<Retrieved> Points, double Time);

    private static Page Response(ScrollResponse? message)
    {
        Assert.NotNull(message);
        return new Page(message.NextPageOffset is { } n ? ReadId(n) : (PointId?)null, message.Result.Select(ReadPoint).ToList(), message.Time);
    }

    private static PointId ReadId(GrpcPointId id) => id.PointIdOptionsCase switch
    {
        GrpcPointId.PointIdOptionsOneofCase.Num => PointId.FromUnsigned(id.Num),
        GrpcPointId.PointIdOptionsOneofCase.Uuid => PointId.FromUuid(Guid.Parse(id.Uuid)),
        _ => throw new Xunit.Sdk.XunitException("empty PointId"),
    };

    private static Retrieved ReadPoint(RetrievedPoint p) => new(ReadId(p.Id),
        p.Payload.ToDictionary(e => e.Key, e => ReadValue(e.Value), StringComparer.Ordinal),
        p.Vectors is null ? null : ReadVectors(p.Vectors));

    private static object? ReadValue(Value v) => v.KindCase switch
    {
        Value.KindOneofCase.NullValue => JsonNull,
        Value.KindOneofCase.DoubleValue => v.DoubleValue,
        Value.KindOneofCase.IntegerValue => v.IntegerValue,
        Value.KindOneofCase.StringValue => v.StringValue,
        Value.KindOneofCase.BoolValue => v.BoolValue,
        Value.KindOneofCase.StructValue => v.StructValue.Fields.ToDictionary(e => e.Key, e => ReadValue(e.Value)),
        Value.KindOneofCase.ListValue => v.ListValue.Values.Select(ReadValue).ToList(),
        _ => throw new Xunit.Sdk.XunitException("a Value with no kind"),
    };

    private static Vectors ReadVectors(VectorsOutput v) => v.VectorsOptionsCase switch
    {
        VectorsOutput.VectorsOptionsOneofCase.Vector => new Vectors(true, new Dictionary<string, VectorValue> { [""] = ReadVectorOutput(v.Vector) }),
        VectorsOutput.VectorsOptionsOneofCase.Vectors => new Vectors(false, v.Vectors.Vectors.ToDictionary(e => e.Key, e => ReadVectorOutput(e.Value))),
        _ => throw new Xunit.Sdk.XunitException("empty VectorsOutput"),
    };

    /// <summary>VectorOutput: only the oneof (dense, sparse, multi_dense); the deprecated fields empty.</summary>
    private static VectorValue ReadVectorOutput(VectorOutput v)
    {
#pragma warning disable CS0612
        Assert.Empty(v.Data);
        Assert.Null(v.Indices);
        Assert.False(v.HasVectorsCount);
#pragma warning restore CS0612
        return v.VectorCase switch
        {
            VectorOutput.VectorOneofCase.Dense => new DenseVector(v.Dense.Data.ToArray()),
            VectorOutput.VectorOneofCase.Sparse => new SparseVector(v.Sparse.Indices.ToArray(), v.Sparse.Values.ToArray()),
            VectorOutput.VectorOneofCase.MultiDense => new MultiVector(v.MultiDense.Vectors.Select(d => d.Data.ToArray()).ToArray()),
            _ => throw new Xunit.Sdk.XunitException("empty VectorOutput"),
        };
    }
}
