using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>
/// The Qdrant stand-in's gRPC Scroll, spoken to with a plain HttpClient over cleartext HTTP/2 and protobuf encoded
/// and decoded by hand (field numbers from Qdrant's points.proto and json_with_int.proto).
/// </summary>
public sealed class QdrantGrpcStandInTests : IDisposable
{
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

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
        Assert.Equal(Scroll("c", limit: 2), server.GrpcScrollBodies[0]);
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
        var answer = await CallAsync(server, Scroll("nope"));
        Assert.Equal(HttpStatusCode.OK, answer.Http);
        Assert.Equal("application/grpc", answer.ContentType);
        Assert.True(answer.TrailersOnly);
        Assert.Equal(5, answer.Status);
        Assert.Equal("Not found: Collection `nope` doesn't exist!", answer.Message2);
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
        var filtered = await CallAsync(server, Scroll("c", filter: true));
        Assert.Equal(3, filtered.Status);
        Assert.Contains("stand-in", filtered.Message2);
        Assert.Equal(0, (await CallAsync(server, Scroll("c", emptyFilter: true))).Status);
        var unnamed = await CallAsync(server, Scroll(""));
        Assert.Equal(3, unnamed.Status);
        Assert.Equal("Validation error in body: [collection_name: value \"\" invalid, must be from 1 to 255 characters]", unnamed.Message2);
        var noSelector = await CallAsync(server, [.. Scroll("c"), 0x32, 0x00]); // with_payload = WithPayloadSelector {}
        Assert.Equal(3, noSelector.Status);
        Assert.Equal("No PayloadSelector", noSelector.Message2);
        var unknown = await CallAsync(server, Scroll("c"), method: "qdrant.Points/Search");
        Assert.Equal(12, unknown.Status);
        Assert.Equal(1, server.GrpcScrollRequests);
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
        await Assert.ThrowsAnyAsync<Exception>(() => CallAsync(server, Scroll("c", limit: 50, withVectors: true)));
        Assert.Equal(0, (await CallAsync(server, Scroll("c"))).Status);
        Assert.Equal(3, server.Faults.Injected);
    }

    // ---------------------------------------------------------------- a hand-made gRPC client

    private sealed record Answer(HttpStatusCode Http, string? ContentType, int Status, string? Message2, bool TrailersOnly, ByteString Message, string? RetryAfter);

    private async Task<Answer> CallAsync(QdrantStandIn server, byte[] request, string? apiKey = null, string? bearer = null,
        string method = "qdrant.Points/Scroll")
    {
        var framed = new byte[request.Length + 5];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)request.Length);
        request.CopyTo(framed, 5);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(server.GrpcBaseAddress, method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(framed),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        message.Headers.TryAddWithoutValidation("te", "trailers");
        if (apiKey is not null) message.Headers.Add("api-key", apiKey);
        if (bearer is not null) message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await _http.SendAsync(message);
        Assert.Equal(HttpVersion.Version20, response.Version);
        var body = await response.Content.ReadAsByteArrayAsync();
        var trailersOnly = response.Headers.Contains("grpc-status");
        var headers = trailersOnly ? (HttpHeaders)response.Headers : response.TrailingHeaders;
        var status = int.Parse(headers.GetValues("grpc-status").Single());
        var text = headers.TryGetValues("grpc-message", out var m) ? Uri.UnescapeDataString(m.Single()) : null;
        var payload = ByteString.Empty;
        if (body.Length > 0)
        {
            Assert.Equal(0, body[0]);
            var length = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1));
            Assert.Equal(body.Length - 5, (int)length); // exactly one message
            payload = ByteString.CopyFrom(body, 5, body.Length - 5);
        }
        var retryAfter = headers.TryGetValues("retry-after", out var ra) ? ra.Single() : null;
        return new Answer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, status, text, trailersOnly, payload, retryAfter);
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var ms = new MemoryStream();
        var o = new CodedOutputStream(ms, leaveOpen: true);
        write(o);
        o.Flush();
        return ms.ToArray();
    }

    private static void Nested(CodedOutputStream o, int field, byte[] content)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(content));
    }

    private static byte[] Strings(IEnumerable<string> values) => Message(o =>
    {
        foreach (var v in values)
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString(v);
        }
    });

    /// <summary>A ScrollPoints message (points.proto).</summary>
    private static byte[] Scroll(string collection, PointId? offset = null, uint? limit = null, bool? withPayload = null,
        string[]? include = null, string[]? exclude = null, bool? withVectors = null, string[]? vectorNames = null,
        bool filter = false, bool emptyFilter = false) => Message(o =>
    {
        o.WriteTag(1, WireFormat.WireType.LengthDelimited);
        o.WriteString(collection);
        if (filter)
        {
            // Filter { must: [Condition { field: FieldCondition { key: "a", match: Match { keyword: "b" } } }] }
            var match = Message(m => { m.WriteTag(1, WireFormat.WireType.LengthDelimited); m.WriteString("b"); });
            var field = Message(f => { f.WriteTag(1, WireFormat.WireType.LengthDelimited); f.WriteString("a"); Nested(f, 2, match); });
            var condition = Message(c => Nested(c, 1, field));
            Nested(o, 2, Message(f => Nested(f, 2, condition)));
        }
        if (emptyFilter) Nested(o, 2, []);
        if (offset is { } id) Nested(o, 3, PointIdMessage(id));
        if (limit is { } l)
        {
            o.WriteTag(4, WireFormat.WireType.Varint);
            o.WriteUInt32(l);
        }
        if (withPayload is { } wp) Nested(o, 6, Message(s => { s.WriteTag(1, WireFormat.WireType.Varint); s.WriteBool(wp); }));
        if (include is not null) Nested(o, 6, Message(s => Nested(s, 2, Strings(include))));
        if (exclude is not null) Nested(o, 6, Message(s => Nested(s, 3, Strings(exclude))));
        if (withVectors is { } wv) Nested(o, 7, Message(s => { s.WriteTag(1, WireFormat.WireType.Varint); s.WriteBool(wv); }));
        if (vectorNames is not null) Nested(o, 7, Message(s => Nested(s, 2, Strings(vectorNames))));
        o.WriteTag(11, WireFormat.WireType.Varint); // timeout: read and ignored
        o.WriteUInt64(30);
    });

    private static byte[] PointIdMessage(PointId id) => Message(o =>
    {
        if (id.Kind == PointIdKind.Unsigned)
        {
            o.WriteTag(1, WireFormat.WireType.Varint);
            o.WriteUInt64(id.AsUnsigned);
        }
        else
        {
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteString(id.AsUuid.ToString("D"));
        }
    });

    // ---------------------------------------------------------------- decoding ScrollResponse

    private static readonly object JsonNull = new();

    private sealed record Vectors(bool Single, Dictionary<string, VectorValue> Named);

    private sealed record Retrieved(PointId Id, Dictionary<string, object?> Payload, Vectors? Vectors);

    private sealed record Page(PointId? Next, List<Retrieved> Points, double Time);

    private static IEnumerable<(int Field, WireFormat.WireType Type, CodedInputStream Input)> Fields(ByteString message)
    {
        var input = message.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0) yield return (WireFormat.GetTagFieldNumber(tag), WireFormat.GetTagWireType(tag), input);
    }

    private static Page Response(ByteString message)
    {
        PointId? next = null;
        var points = new List<Retrieved>();
        var time = 0d;
        foreach (var (field, _, input) in Fields(message))
        {
            switch (field)
            {
                case 1: next = ReadId(input.ReadBytes()); break;
                case 2: points.Add(ReadPoint(input.ReadBytes())); break;
                case 3: time = input.ReadDouble(); break;
                default: throw new Xunit.Sdk.XunitException($"unexpected ScrollResponse field {field}");
            }
        }
        return new Page(next, points, time);
    }

    private static PointId ReadId(ByteString message)
    {
        PointId? id = null;
        foreach (var (field, _, input) in Fields(message))
        {
            id = field switch
            {
                1 => PointId.FromUnsigned(input.ReadUInt64()),
                2 => PointId.FromUuid(Guid.Parse(input.ReadString())),
                _ => throw new Xunit.Sdk.XunitException($"unexpected PointId field {field}"),
            };
        }
        return id ?? throw new Xunit.Sdk.XunitException("empty PointId");
    }

    private static Retrieved ReadPoint(ByteString message)
    {
        PointId? id = null;
        var payload = new Dictionary<string, object?>(StringComparer.Ordinal);
        Vectors? vectors = null;
        foreach (var (field, _, input) in Fields(message))
        {
            switch (field)
            {
                case 1: id = ReadId(input.ReadBytes()); break;
                case 2:
                    var (key, value) = ReadEntry(input.ReadBytes());
                    payload[key] = ReadValue(value);
                    break;
                case 4: vectors = ReadVectors(input.ReadBytes()); break;
                default: throw new Xunit.Sdk.XunitException($"unexpected RetrievedPoint field {field}");
            }
        }
        return new Retrieved(id!.Value, payload, vectors);
    }

    /// <summary>A map entry: key = 1 (absent when empty), value = 2.</summary>
    private static (string Key, ByteString Value) ReadEntry(ByteString message)
    {
        var key = "";
        var value = ByteString.Empty;
        foreach (var (field, _, input) in Fields(message))
        {
            if (field == 1) key = input.ReadString();
            else if (field == 2) value = input.ReadBytes();
        }
        return (key, value);
    }

    /// <summary>qdrant.Value (json_with_int.proto).</summary>
    private static object? ReadValue(ByteString message)
    {
        object? result = null;
        var kinds = 0;
        foreach (var (field, _, input) in Fields(message))
        {
            kinds++;
            result = field switch
            {
                1 => input.ReadEnum() == 0 ? JsonNull : throw new Xunit.Sdk.XunitException("bad NullValue"),
                2 => input.ReadDouble(),
                3 => input.ReadInt64(),
                4 => input.ReadString(),
                5 => input.ReadBool(),
                6 => Fields(input.ReadBytes()).Select(f => ReadEntry(f.Input.ReadBytes())).ToDictionary(e => e.Key, e => ReadValue(e.Value)),
                7 => Fields(input.ReadBytes()).Select(f => ReadValue(f.Input.ReadBytes())).ToList(),
                _ => throw new Xunit.Sdk.XunitException($"unexpected Value field {field}"),
            };
        }
        Assert.Equal(1, kinds);
        return result;
    }

    private static Vectors ReadVectors(ByteString message)
    {
        Vectors? result = null;
        foreach (var (field, _, input) in Fields(message))
        {
            if (field == 1)
            {
                result = new Vectors(true, new Dictionary<string, VectorValue> { [""] = ReadVectorOutput(input.ReadBytes()) });
            }
            else if (field == 2)
            {
                var named = new Dictionary<string, VectorValue>(StringComparer.Ordinal);
                foreach (var entry in Fields(input.ReadBytes()))
                {
                    Assert.Equal(1, entry.Field);
                    var (name, value) = ReadEntry(entry.Input.ReadBytes());
                    named.Add(name, ReadVectorOutput(value));
                }
                result = new Vectors(false, named);
            }
        }
        return result ?? throw new Xunit.Sdk.XunitException("empty VectorsOutput");
    }

    /// <summary>VectorOutput: only the oneof (dense 101, sparse 102, multi_dense 103); the deprecated fields empty.</summary>
    private static VectorValue ReadVectorOutput(ByteString message)
    {
        VectorValue? result = null;
        foreach (var (field, _, input) in Fields(message))
        {
            result = field switch
            {
                101 => new DenseVector(ReadDense(input.ReadBytes())),
                102 => ReadSparse(input.ReadBytes()),
                103 => new MultiVector(Fields(input.ReadBytes()).Select(f => ReadDense(f.Input.ReadBytes())).ToArray()),
                _ => throw new Xunit.Sdk.XunitException($"unexpected VectorOutput field {field} (deprecated data/indices/vectors_count are left empty)"),
            };
        }
        return result ?? throw new Xunit.Sdk.XunitException("empty VectorOutput");
    }

    private static float[] ReadDense(ByteString message)
    {
        var values = Array.Empty<float>();
        foreach (var (field, type, input) in Fields(message))
        {
            Assert.Equal(1, field);
            Assert.Equal(WireFormat.WireType.LengthDelimited, type); // packed
            values = Floats(input.ReadBytes());
        }
        return values;
    }

    private static float[] Floats(ByteString packed)
    {
        var span = packed.Span;
        var values = new float[span.Length / 4];
        for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(4 * i)..]);
        return values;
    }

    private static SparseVector ReadSparse(ByteString message)
    {
        float[] values = [];
        var indices = new List<uint>();
        foreach (var (field, type, input) in Fields(message))
        {
            Assert.Equal(WireFormat.WireType.LengthDelimited, type); // packed
            if (field == 1) values = Floats(input.ReadBytes());
            else
            {
                var inner = input.ReadBytes().CreateCodedInput();
                while (!inner.IsAtEnd) indices.Add(inner.ReadUInt32());
            }
        }
        return new SparseVector(indices.ToArray(), values);
    }
}
