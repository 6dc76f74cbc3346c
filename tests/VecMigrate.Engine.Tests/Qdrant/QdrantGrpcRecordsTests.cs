using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using ScrollResponse = Qdrant.Client.Grpc.ScrollResponse;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>
/// ScrollResponse messages as records: bytes written here with Google.Protobuf's CodedOutputStream by the field
/// numbers of Qdrant's points.proto / json_with_int.proto (a check of the official client's generated types as
/// much as of the mapping), read by the generated parser, then mapped: every vector form, both id kinds, payload
/// values, unknown fields, and answers that break the API, which must come out as invalid-answer errors naming the
/// point.
/// </summary>
public sealed class QdrantGrpcRecordsTests
{
    private static QdrantScrollPage Parse(byte[] message, bool withPayload = true) =>
        QdrantGrpcRecords.ReadPage(ScrollResponse.Parser.ParseFrom(message), default, withPayload,
            (m, inner) => new VecMigrateException(FailureKind.InvalidResponse, "QdrantInvalidResponse", m, null, inner));

    private static VecMigrateException Invalid(byte[] message)
    {
        var ex = Assert.Throws<VecMigrateException>(() => Parse(message));
        Assert.Equal("QdrantInvalidResponse", ex.ErrorId);
        return ex;
    }

    // ---- a tiny protobuf builder over CodedOutputStream ----

    private static byte[] Msg(Action<CodedOutputStream> write)
    {
        var ms = new MemoryStream();
        var o = new CodedOutputStream(ms);
        write(o);
        o.Flush();
        return ms.ToArray();
    }

    private static void Sub(CodedOutputStream o, int field, byte[] message)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(message));
    }

    private static void Str(CodedOutputStream o, int field, string s)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(s);
    }

    private static void PackedFloats(CodedOutputStream o, int field, float[] values)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteLength(values.Length * 4);
        foreach (var v in values) o.WriteFloat(v);
    }

    private static void PackedUInts(CodedOutputStream o, int field, uint[] values)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteLength(values.Sum(v => CodedOutputStream.ComputeUInt32Size(v)));
        foreach (var v in values) o.WriteUInt32(v);
    }

    private static byte[] NumId(ulong n) => Msg(o => { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteUInt64(n); });

    private static byte[] UuidId(string u) => Msg(o => Str(o, 2, u));

    private static byte[] Dense(params float[] v) => Msg(o => PackedFloats(o, 1, v));

    /// <summary>VectorOutput with the vector in the deprecated <c>data</c> field.</summary>
    private static byte[] DataVector(params float[] v) => Msg(o => PackedFloats(o, 1, v));

    private static byte[] Point(byte[] id, byte[]? vectors = null, params (string Key, byte[] Value)[] payload) => Msg(o =>
    {
        Sub(o, 1, id);
        foreach (var (k, v) in payload) Sub(o, 2, Msg(e => { Str(e, 1, k); Sub(e, 2, v); }));
        if (vectors is not null) Sub(o, 4, vectors);
    });

    private static byte[] Unnamed(byte[] vectorOutput) => Msg(o => Sub(o, 1, vectorOutput));

    private static byte[] Named(params (string Name, byte[] VectorOutput)[] vectors) => Msg(o =>
        Sub(o, 2, Msg(n =>
        {
            foreach (var (name, v) in vectors) Sub(n, 1, Msg(e => { Str(e, 1, name); Sub(e, 2, v); }));
        })));

    private static byte[] Response(byte[]? next, params byte[][] points) => Msg(o =>
    {
        if (next is not null) Sub(o, 1, next);
        foreach (var p in points) Sub(o, 2, p);
        o.WriteTag(3, WireFormat.WireType.Fixed64);
        o.WriteDouble(0.0012);
    });

    // Value
    private static byte[] VDouble(double d) => Msg(o => { o.WriteTag(2, WireFormat.WireType.Fixed64); o.WriteDouble(d); });
    private static byte[] VInt(long n) => Msg(o => { o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(n); });
    private static byte[] VStr(string s) => Msg(o => Str(o, 4, s));
    private static byte[] VBool(bool b) => Msg(o => { o.WriteTag(5, WireFormat.WireType.Varint); o.WriteBool(b); });
    private static byte[] VNull() => Msg(o => { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteEnum(0); });
    private static byte[] VStruct(params (string Key, byte[] Value)[] fields) => Msg(o =>
        Sub(o, 6, Msg(s => { foreach (var (k, v) in fields) Sub(s, 1, Msg(e => { Str(e, 1, k); Sub(e, 2, v); })); })));
    private static byte[] VList(params byte[][] values) => Msg(o => Sub(o, 7, Msg(l => { foreach (var v in values) Sub(l, 1, v); })));

    private static void AssertBits(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(BitConverter.SingleToUInt32Bits(expected[i]), BitConverter.SingleToUInt32Bits(actual[i]));
    }

    private static readonly float[] Awkward = [0.1f, -0.0f, float.Epsilon, float.MaxValue, -1.17549435e-38f, 1e-45f, 3.14159274f];

    [Fact]
    public void Dense_vectors_come_bit_for_bit_from_data_or_the_dense_member()
    {
        var page = Parse(Response(null,
            Point(NumId(1), Unnamed(DataVector(Awkward))),
            Point(NumId(ulong.MaxValue), Unnamed(Msg(o => Sub(o, 101, Dense(Awkward)))))));
        Assert.Null(page.NextPageOffset);
        Assert.Equal(2, page.Points.Count);
        Assert.Equal(PointId.FromUnsigned(1), page.Points[0].Id);
        Assert.Equal(PointId.FromUnsigned(ulong.MaxValue), page.Points[1].Id);
        foreach (var p in page.Points)
        {
            var v = Assert.IsType<DenseVector>(p.Vectors![VectorRecord.DefaultVectorName]);
            AssertBits(Awkward, v.Values);
        }
    }

    [Fact]
    public void Unpacked_and_split_float_runs_are_joined()
    {
        var vector = Msg(o =>
        {
            o.WriteTag(1, WireFormat.WireType.Fixed32);
            o.WriteFloat(1.5f);
            PackedFloats(o, 1, [2.5f, -3f]);
            o.WriteTag(1, WireFormat.WireType.Fixed32);
            o.WriteFloat(4f);
        });
        var page = Parse(Response(null, Point(NumId(7), Unnamed(vector))));
        AssertBits([1.5f, 2.5f, -3f, 4f], ((DenseVector)page.Points[0].Vectors![""]).Values);
    }

    [Fact]
    public void Uuid_ids_and_next_page_offset()
    {
        const string u = "6f1a8c5e-0000-4000-8000-00000000abcd";
        var page = Parse(Response(UuidId("7f1a8c5e-0000-4000-8000-000000000001"), Point(UuidId(u))));
        Assert.Equal(PointId.FromUuid(Guid.Parse(u)), page.Points[0].Id);
        Assert.Equal(PointId.FromUuid(Guid.Parse("7f1a8c5e-0000-4000-8000-000000000001")), page.NextPageOffset);
        Assert.Empty(page.Points[0].Vectors ?? new Dictionary<string, VectorValue>());
        Assert.Equal("{}", page.Points[0].Payload!.ToString());
        Assert.Equal(PointId.FromUnsigned(42), Parse(Response(NumId(42))).NextPageOffset);
    }

    [Fact]
    public void Payload_is_not_made_up_when_not_asked_for()
    {
        var page = Parse(Response(null, Point(NumId(1))), withPayload: false);
        Assert.Null(page.Points[0].Payload);
    }

    [Fact]
    public void Sparse_vectors_in_both_forms()
    {
        var flat = Msg(o => { PackedFloats(o, 1, [0.5f, -2f]); Sub(o, 2, Msg(i => PackedUInts(i, 1, [7, 300000]))); });
        var member = Msg(o => Sub(o, 102, Msg(s => { PackedFloats(s, 1, [0.5f, -2f]); PackedUInts(s, 2, [7, 300000]); })));
        var emptyFlat = Msg(o => Sub(o, 2, []));
        var page = Parse(Response(null, Point(NumId(1), Named(("a", flat), ("b", member), ("c", emptyFlat)))));
        var vectors = page.Points[0].Vectors!;
        foreach (var name in new[] { "a", "b" })
        {
            var s = Assert.IsType<SparseVector>(vectors[name]);
            Assert.Equal(new uint[] { 7, 300000 }, s.Indices);
            AssertBits([0.5f, -2f], s.Values);
        }
        Assert.Equal(0, Assert.IsType<SparseVector>(vectors["c"]).Length);
    }

    [Fact]
    public void Multivectors_in_both_forms()
    {
        var rows = new[] { new[] { 1f, 2f, 3f }, new[] { -4f, 0.1f, 6f } };
        var member = Msg(o => Sub(o, 103, Msg(m => { foreach (var r in rows) Sub(m, 1, Dense(r)); })));
        var flat = Msg(o => { PackedFloats(o, 1, rows.SelectMany(r => r).ToArray()); o.WriteTag(3, WireFormat.WireType.Varint); o.WriteUInt32(2); });
        var page = Parse(Response(null, Point(NumId(1), Named(("m1", member), ("m2", flat))), Point(NumId(2), Unnamed(member))));
        foreach (var v in new[] { page.Points[0].Vectors!["m1"], page.Points[0].Vectors!["m2"], page.Points[1].Vectors![""] })
        {
            var m = Assert.IsType<MultiVector>(v);
            Assert.Equal(2, m.Vectors.Length);
            AssertBits(rows[0], m.Vectors[0]);
            AssertBits(rows[1], m.Vectors[1]);
        }
    }

    [Fact]
    public void Named_vectors_keep_their_names()
    {
        var page = Parse(Response(null,
            Point(NumId(1), Named(("text", DataVector(1, 2)), ("", DataVector(3)), ("ünï", DataVector(4)))),
            Point(NumId(2), Named(("text", DataVector(5, 6))))));
        Assert.Equal(new[] { "text", "", "ünï" }, page.Points[0].Vectors!.Keys);
    }

    [Fact]
    public void Payload_values_become_compact_json_in_wire_order()
    {
        var page = Parse(Response(null, Point(NumId(1), null,
            ("s", VStr("a\"b\\c\u0000é😀\n")),
            ("i", VInt(long.MinValue)),
            ("j", VInt(long.MaxValue)),
            ("d", VDouble(0.1)),
            ("e", VDouble(-1e300)),
            ("z", VDouble(-0.0)),
            ("t", VBool(true)),
            ("f", VBool(false)),
            ("n", VNull()),
            ("empty", []),
            ("o", VStruct(("x", VList(VInt(1), VStr("y"), VStruct(), VList())), ("", VDouble(2.5)))))));
        var json = page.Points[0].Payload!.ToString();
        Assert.Contains("\\u0000", json);
        Assert.DoesNotContain("\uFFFD", json);
        Assert.StartsWith("{\"s\":", json);
        Assert.True(JsonPayload.DeepEquals(Encoding.UTF8.GetBytes(json), Encoding.UTF8.GetBytes(
            "{\"s\":\"a\\\"b\\\\c\\u0000é😀\\n\",\"i\":-9223372036854775808,\"j\":9223372036854775807,\"d\":0.1,\"e\":-1E+300,\"z\":-0," +
            "\"t\":true,\"f\":false,\"n\":null,\"empty\":null,\"o\":{\"x\":[1,\"y\",{},[]],\"\":2.5}}")), json);
        Assert.Contains("\"i\":-9223372036854775808,\"j\":9223372036854775807,\"d\":0.1,", json);
        Assert.True(page.Points[0].Payload!.ContainsNulCharacter());
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(0.1, doc.RootElement.GetProperty("d").GetDouble());
        Assert.Equal(new[] { "s", "i", "j", "d", "e", "z", "t", "f", "n", "empty", "o" }, doc.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Non_finite_payload_numbers_are_refused_naming_the_point(double d)
    {
        var ex = Invalid(Response(null, Point(NumId(1)), Point(NumId(9), null, ("x", VList(VDouble(d))))));
        Assert.Contains("point #1 (id 9)", ex.Message);
    }

    [Fact]
    public void Unknown_fields_of_every_wire_type_are_skipped()
    {
        void Junk(CodedOutputStream o)
        {
            o.WriteTag(90, WireFormat.WireType.Varint); o.WriteUInt64(ulong.MaxValue);
            o.WriteTag(91, WireFormat.WireType.Fixed64); o.WriteFixed64(5);
            o.WriteTag(92, WireFormat.WireType.Fixed32); o.WriteFixed32(5);
            Str(o, 93, "junk");
            o.WriteTag(94, WireFormat.WireType.StartGroup);
            o.WriteTag(1, WireFormat.WireType.Varint); o.WriteUInt32(1);
            o.WriteTag(95, WireFormat.WireType.StartGroup); o.WriteTag(95, WireFormat.WireType.EndGroup);
            o.WriteTag(94, WireFormat.WireType.EndGroup);
        }
        var vector = Msg(o => { Junk(o); PackedFloats(o, 1, [1f, 2f]); Junk(o); });
        var point = Msg(o =>
        {
            Junk(o);
            Sub(o, 1, Msg(i => { Junk(i); i.WriteTag(1, WireFormat.WireType.Varint); i.WriteUInt64(5); }));
            Sub(o, 5, Msg(k => Str(k, 1, "shard"))); // shard_key
            Sub(o, 4, Msg(v => { Junk(v); Sub(v, 1, vector); }));
            Sub(o, 2, Msg(e => { Junk(e); Str(e, 1, "k"); Sub(e, 2, Msg(v => { Junk(v); v.WriteTag(3, WireFormat.WireType.Varint); v.WriteInt64(-3); })); }));
        });
        var response = Msg(o => { Junk(o); Sub(o, 2, point); Sub(o, 4, Msg(u => Junk(u))); Junk(o); });
        var page = Parse(response);
        Assert.Equal(PointId.FromUnsigned(5), page.Points[0].Id);
        AssertBits([1f, 2f], ((DenseVector)page.Points[0].Vectors![""]).Values);
        Assert.Equal("{\"k\":-3}", page.Points[0].Payload!.ToString());
    }

    [Fact]
    public void Answers_that_break_the_api_name_the_point()
    {
        // a point without id, a UUID that is not one
        Assert.Contains("point #0", Invalid(Response(null, Msg(o => Sub(o, 4, Unnamed(DataVector(1)))))).Message);
        Assert.Contains("not a UUID", Invalid(Response(null, Point(NumId(1)), Point(UuidId("nope")))).Message);
        // sparse with mismatched lengths; multi not divisible
        Assert.Contains("indices", Invalid(Response(null, Point(NumId(1), Named(("s", Msg(o => { PackedFloats(o, 1, [1f, 2f]); Sub(o, 2, Msg(i => PackedUInts(i, 1, [1]))); })))))).Message);
        Assert.Contains("rows", Invalid(Response(null, Point(NumId(1), Unnamed(Msg(o => { PackedFloats(o, 1, [1f, 2f, 3f]); o.WriteTag(3, WireFormat.WireType.Varint); o.WriteUInt32(2); }))))).Message);
    }

    [Fact]
    public void GrpcUrl_is_validated_and_loses_its_credentials()
    {
        using var client = new QdrantClient(new Uri("http://localhost:6333")) { GrpcUrl = new Uri("https://user:pw@example.com:6334/prefix?x=1") };
        Assert.Equal("https://example.com:6334/prefix/", client.GrpcUrl!.ToString());
        Assert.Throws<ArgumentException>(() => new QdrantClient() { GrpcUrl = new Uri("ftp://example.com/") });
        using var rest = new QdrantClient();
        Assert.Null(rest.GrpcUrl);
    }

    [Theory]
    [InlineData(404, "QdrantNotFound")]
    [InlineData(200, "QdrantInvalidResponse")] // an answer without grpc-status
    public async Task Answers_that_are_not_grpc_are_refused(int status, string errorId)
    {
        await using var host = await VecMigrate.Testing.StandIns.StandInHost.StartAsync(app => app.Run(async ctx =>
        {
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "text/plain";
            await ctx.Response.WriteAsync("not grpc");
        }), protocols: Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
        using var transport = new Engine.Http.RestTransport(Engine.Http.RetryPolicy.None);
        using var client = new QdrantClient(host.BaseAddress, null, transport) { GrpcUrl = host.BaseAddress };
        await QdrantTestKit.ThrowsQdrant(errorId, () => client.ScrollAsync("c", new QdrantScrollRequest()));
    }

    [Fact]
    public void Dense_vectors_are_taken_from_the_message_without_a_copy()
    {
        Assert.True(QdrantGrpcRecords.TakesListArrays, "Google.Protobuf's RepeatedField<float> no longer has its `array` field: every vector is copied again");
        var floats = Enumerable.Range(0, 1024).Select(i => i * 0.5f).ToArray();
        var page = Parse(Response(null, Point(NumId(1), Unnamed(Msg(o => Sub(o, 101, Dense(floats)))))));
        AssertBits(floats, ((DenseVector)page.Points[0].Vectors![""]).Values);
    }
}
