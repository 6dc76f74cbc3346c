using System.Text;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

public sealed class QdrantClientTests(QdrantStandInFixture fx) : IClassFixture<QdrantStandInFixture>
{
    private static readonly QdrantScrollRequest All = new() { Limit = 10_000 };

    [Fact]
    public async Task ListCollections_returns_every_collection_name()
    {
        var a = NewCollectionName();
        var b = NewCollectionName();
        fx.Server.CreateCollection(a, new QdrantStandInVector("", 2));
        fx.Server.CreateCollection(b, new QdrantStandInVector("", 2));
        using var client = fx.Client();
        var names = await client.ListCollectionsAsync();
        Assert.Contains(a, names);
        Assert.Contains(b, names);
    }

    [Fact]
    public async Task GetCollection_reads_an_unnamed_vector_config()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 384, "Dot", "float16"));
        fx.Server.Seed(name, [Dense(1UL, new float[384]), Dense(2UL, new float[384])]);
        using var client = fx.Client();
        var info = await client.GetCollectionAsync(name);
        Assert.Equal(name, info.Name);
        Assert.Equal("green", info.Status);
        Assert.Equal(2UL, info.PointsCount);
        Assert.True(info.HasUnnamedVector);
        var v = Assert.Single(info.Vectors);
        Assert.Equal(new QdrantVectorParams("", 384, DistanceMetric.Dot, "Dot", "float16", null), v);
        Assert.Empty(info.SparseVectors);
    }

    [Fact]
    public async Task GetCollection_reads_named_dense_multivector_and_sparse_configs()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name,
            [new QdrantStandInVector("image", 4, "Euclid"), new QdrantStandInVector("colbert", 3, "Manhattan", Multivector: true)],
            [new QdrantStandInSparse("bm25", "idf"), new QdrantStandInSparse("splade")]);
        using var client = fx.Client();
        var info = await client.GetCollectionAsync(name);
        Assert.False(info.HasUnnamedVector);
        Assert.Equal(
            [new QdrantVectorParams("image", 4, DistanceMetric.Euclid, "Euclid", null, null),
             new QdrantVectorParams("colbert", 3, DistanceMetric.Manhattan, "Manhattan", null, "max_sim")],
            info.Vectors);
        Assert.True(info.Vectors[1].IsMultivector);
        Assert.Equal([new QdrantSparseVectorParams("bm25", "idf", null), new QdrantSparseVectorParams("splade", null, null)], info.SparseVectors);
    }

    [Fact]
    public async Task Scroll_keeps_unsigned_ids_exact_up_to_the_largest_u64()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        ulong[] ids = [ulong.MaxValue, 0, 1UL << 63, 1, (1UL << 63) - 1, 9_007_199_254_740_993]; // 2^53+1: lost through double
        fx.Server.Seed(name, ids.Select(i => Dense(i, [1f])));
        using var client = fx.Client();
        var page = await client.ScrollAsync(name, All);
        Assert.Equal(ids.Order().Select(PointId.FromUnsigned), page.Points.Select(p => p.Id));
        Assert.Null(page.NextPageOffset);
    }

    [Fact]
    public async Task Scroll_reads_uuid_ids_in_byte_order()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        Guid[] ids = [Uuid(0xff, 1), Uuid(0x00, 2), Uuid(0x80, 0), Uuid(0x00, 1), Guid.Empty];
        fx.Server.Seed(name, ids.Select(g => Dense(g, [1f])));
        using var client = fx.Client();
        var page = await client.ScrollAsync(name, All);
        Assert.Equal([Guid.Empty, Uuid(0x00, 1), Uuid(0x00, 2), Uuid(0x80, 0), Uuid(0xff, 1)], page.Points.Select(p => p.Id.AsUuid));
    }

    [Fact]
    public async Task Scroll_of_mixed_ids_gives_every_integer_before_every_uuid()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        PointId[] ids = [Uuid(0x00, 0), ulong.MaxValue, Uuid(0x7f, 3), 0UL, 42UL];
        fx.Server.Seed(name, ids.Select(i => Dense(i, [1f])));
        using var client = fx.Client();
        var page = await client.ScrollAsync(name, All);
        Assert.Equal<PointId>([0UL, 42UL, ulong.MaxValue, Uuid(0x00, 0), Uuid(0x7f, 3)], page.Points.Select(p => p.Id));
    }

    [Fact]
    public async Task Scroll_next_page_offset_is_the_first_point_not_returned_and_null_on_the_last_page()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        fx.Server.Seed(name, new ulong[] { 10, 20, 30, 40, 50 }.Select(i => Dense(i, [1f])));
        using var client = fx.Client();
        var first = await client.ScrollAsync(name, new QdrantScrollRequest { Limit = 2 });
        Assert.Equal<PointId>([10UL, 20UL], first.Points.Select(p => p.Id));
        Assert.Equal(PointId.FromUnsigned(30), first.NextPageOffset);
        var middle = await client.ScrollAsync(name, new QdrantScrollRequest { Limit = 2, Offset = 25UL }); // offset need not exist
        Assert.Equal<PointId>([30UL, 40UL], middle.Points.Select(p => p.Id));
        var last = await client.ScrollAsync(name, new QdrantScrollRequest { Limit = 2, Offset = 50UL }); // inclusive
        Assert.Equal<PointId>([50UL], last.Points.Select(p => p.Id));
        Assert.Null(last.NextPageOffset);
    }

    [Fact]
    public async Task Scroll_reads_an_unnamed_dense_vector_under_the_empty_name()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 3));
        fx.Server.Seed(name, [Dense(7UL, [0.5f, -1.25f, 3f])]);
        using var client = fx.Client();
        var r = Assert.Single((await client.ScrollAsync(name, All)).Points);
        Assert.Equal([""], r.Vectors.Keys);
        AssertSameFloats([0.5f, -1.25f, 3f], r.Embedding!);
    }

    [Fact]
    public async Task Scroll_reads_an_unnamed_multivector()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 2, Multivector: true));
        float[][] rows = [[1f, 2f], [3f, 4f], [5f, 6f]];
        fx.Server.Seed(name, [new VectorRecord(1UL, new Dictionary<string, VectorValue> { [""] = new MultiVector(rows) }, null)]);
        using var client = fx.Client();
        var r = Assert.Single((await client.ScrollAsync(name, All)).Points);
        var m = Assert.IsType<MultiVector>(r.Vectors[""]);
        Assert.Equal(3, m.Vectors.Length);
        for (var i = 0; i < rows.Length; i++) AssertSameFloats(rows[i], m.Vectors[i]);
    }

    [Fact]
    public async Task Scroll_reads_named_dense_sparse_and_multi_vectors_and_a_point_missing_one()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name,
            [new QdrantStandInVector("text", 2), new QdrantStandInVector("colbert", 2, Multivector: true)],
            [new QdrantStandInSparse("bm25", "idf")]);
        fx.Server.Seed(name,
        [
            new VectorRecord(1UL, new Dictionary<string, VectorValue>
            {
                ["text"] = new DenseVector([0.25f, 0.75f]),
                ["colbert"] = new MultiVector([[1f, 0f], [0f, 1f]]),
                ["bm25"] = new SparseVector([3, 1_000_000, 4_294_967_295], [0.5f, 1.5f, 2.5f]),
            }, null),
            new VectorRecord(2UL, new Dictionary<string, VectorValue> { ["text"] = new DenseVector([1f, 2f]) }, null),
        ]);
        using var client = fx.Client();
        var points = (await client.ScrollAsync(name, All)).Points;
        var full = points[0];
        AssertSameFloats([0.25f, 0.75f], Assert.IsType<DenseVector>(full.Vectors["text"]).Values);
        var colbert = Assert.IsType<MultiVector>(full.Vectors["colbert"]);
        AssertSameFloats([0f, 1f], colbert.Vectors[1]);
        var bm25 = Assert.IsType<SparseVector>(full.Vectors["bm25"]);
        Assert.Equal([3u, 1_000_000u, 4_294_967_295u], bm25.Indices);
        AssertSameFloats([0.5f, 1.5f, 2.5f], bm25.Values);
        Assert.Equal(["text"], points[1].Vectors.Keys);
    }

    [Fact]
    public async Task Scroll_without_vectors_or_payload_gives_records_with_neither()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 2));
        fx.Server.Seed(name, [Dense(1UL, [1f, 2f], """{"a":1}""")]);
        using var client = fx.Client();
        var r = Assert.Single((await client.ScrollAsync(name, new QdrantScrollRequest
        {
            WithPayload = QdrantSelection.None,
            WithVector = QdrantSelection.None,
        })).Points);
        Assert.Empty(r.Vectors);
        Assert.Null(r.Payload);
    }

    [Fact]
    public async Task Scroll_selects_named_vectors_and_payload_fields()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, [new QdrantStandInVector("a", 1), new QdrantStandInVector("b", 1)], null);
        fx.Server.Seed(name, [new VectorRecord(1UL, new Dictionary<string, VectorValue>
        {
            ["a"] = new DenseVector([1f]),
            ["b"] = new DenseVector([2f]),
        }, JsonPayload.FromString("""{"keep":1,"drop":2,"also":[3]}"""))]);
        using var client = fx.Client();
        var r = Assert.Single((await client.ScrollAsync(name, new QdrantScrollRequest
        {
            WithPayload = QdrantSelection.Only("keep", "also"),
            WithVector = QdrantSelection.Only("b"),
        })).Points);
        Assert.Equal(["b"], r.Vectors.Keys);
        Assert.True(JsonPayload.DeepEquals("""{"keep":1,"also":[3]}"""u8, r.Payload!.Utf8Json.Span), r.Payload.ToString());
    }

    [Fact]
    public async Task Scroll_keeps_payload_bytes_of_every_json_type_unchanged()
    {
        const string payload = """
            {"s":"plain","unicode":"Ünïcödé 日本語 🚀 \"quoted\" \\ back \u0001","empty":"",
             "int":-42,"u64max":18446744073709551615,"huge":123456789012345678901234567890,"tiny":1e-320,
             "frac":0.1,"neg0":-0.0,"exp":6.02214076e23,"t":true,"f":false,"n":null,
             "arr":[1,"two",[3,[4]],{"five":5},null],"obj":{"nested":{"deeper":{"deepest":[{}]}}},"emptyArr":[],"emptyObj":{}}
            """;
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        fx.Server.Seed(name, [Dense(1UL, [1f], payload), Dense(2UL, [1f])]);
        using var client = fx.Client();
        var points = (await client.ScrollAsync(name, All)).Points;
        Assert.Equal(Encoding.UTF8.GetBytes(payload), points[0].Payload!.Utf8Json.ToArray());
        Assert.Equal("{}", points[1].Payload!.ToString()); // Qdrant gives a point without payload an empty one
    }

    [Fact]
    public async Task Scroll_passes_the_filter_through_and_gets_only_matching_points()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        fx.Server.Seed(name, Enumerable.Range(0, 10).Select(i => Dense((ulong)i, [1f], $$"""{"parity":"{{(i % 2 == 0 ? "even" : "odd")}}"}""")));
        using var client = fx.Client();
        const string filter = """{"must":[{"key":"parity","match":{"value":"odd"}}]}""";
        var page = await client.ScrollAsync(name, new QdrantScrollRequest { FilterJson = filter });
        Assert.Equal<PointId>([1UL, 3UL, 5UL, 7UL, 9UL], page.Points.Select(p => p.Id));
        Assert.Contains(filter, fx.Server.ScrollBodies.Last());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10_001)]
    public async Task Scroll_refuses_a_page_size_outside_1_to_10000(int limit)
    {
        using var client = fx.Client();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ScrollAsync("x", new QdrantScrollRequest { Limit = limit }));
    }

    [Fact]
    public async Task Scroll_floats_round_trip_bit_for_bit_including_subnormals_signed_zero_and_extremes()
    {
        var random = new Random(1234);
        var values = new List<float> { -0f, 0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, 1.17549435E-38f, 1.1754942E-38f, 0.1f, 1f / 3, 16777217f };
        while (values.Count < 4096)
        {
            var f = BitConverter.Int32BitsToSingle(random.Next(int.MinValue, int.MaxValue));
            if (float.IsFinite(f)) values.Add(f);
        }
        for (var i = 0; i < 512; i++) values.Add(BitConverter.Int32BitsToSingle(random.Next(1, 0x007FFFFF)) * (i % 2 == 0 ? 1 : -1)); // subnormals
        var dim = 64;
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", dim));
        var records = values.Chunk(dim).Where(c => c.Length == dim).Select((c, i) => Dense((ulong)i, c)).ToList();
        fx.Server.Seed(name, records);
        using var client = fx.Client();
        var page = await client.ScrollAsync(name, All);
        Assert.Equal(records.Count, page.Points.Count);
        for (var i = 0; i < records.Count; i++) AssertSameFloats(records[i].Embedding!, page.Points[i].Embedding!);
    }

    [Fact]
    public async Task Scroll_parses_floats_straight_to_float32_not_through_double()
    {
        // Just above the midpoint of 1 and the next float32: correct float32 parsing gives the upper float,
        // while going through double first lands exactly on the midpoint and rounds to even (1.0).
        const string text = "1.000000059604644776257986737988403547205962240695953369140625";
        var upper = BitConverter.Int32BitsToSingle(0x3F800001);
        Assert.NotEqual(upper, (float)double.Parse(text, System.Globalization.CultureInfo.InvariantCulture)); // the trap is real
        await using var host = await ServeAsync(200, ScrollAnswer($$"""{"id":1,"vector":[{{text}},1e-45,-0.0,3.4028235e38]}"""));
        using var client = new QdrantClient(host.BaseAddress, null, fx.Transport);
        var r = Assert.Single((await client.ScrollAsync("c", All)).Points);
        AssertSameFloats([upper, float.Epsilon, -0f, float.MaxValue], r.Embedding!);
    }

    [Fact]
    public async Task Scroll_reads_null_and_absent_payload_and_vector_as_none()
    {
        await using var host = await ServeAsync(200, ScrollAnswer("""{"id":1,"payload":null,"vector":null},{"id":2,"shard_key":"a","order_value":3}"""));
        using var client = new QdrantClient(host.BaseAddress, null, fx.Transport);
        var points = (await client.ScrollAsync("c", All)).Points;
        Assert.All(points, p =>
        {
            Assert.Null(p.Payload);
            Assert.Empty(p.Vectors);
        });
    }

    [Fact]
    public async Task Scroll_accepts_properties_in_any_order_and_unknown_ones()
    {
        await using var host = await ServeAsync(200,
            """{"time":0.1,"usage":{"hardware":null},"status":"ok","result":{"next_page_offset":"6f1a8c5e-0000-4000-8000-000000000001","future":[1,{"x":2}],"points":[{"vector":{"s":{"values":[0.5],"indices":[9]}},"payload":{"k":"v"},"id":"6f1a8c5e-0000-4000-8000-000000000000"}]}}""");
        using var client = new QdrantClient(host.BaseAddress, null, fx.Transport);
        var page = await client.ScrollAsync("c", All);
        var r = Assert.Single(page.Points);
        Assert.Equal(Guid.Parse("6f1a8c5e-0000-4000-8000-000000000000"), r.Id.AsUuid);
        Assert.Equal([9u], Assert.IsType<SparseVector>(r.Vectors["s"]).Indices);
        Assert.Equal("""{"k":"v"}""", r.Payload!.ToString());
        Assert.Equal(PointId.FromUuid(Guid.Parse("6f1a8c5e-0000-4000-8000-000000000001")), page.NextPageOffset);
    }
}
