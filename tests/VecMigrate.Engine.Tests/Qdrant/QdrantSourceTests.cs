using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

public sealed class QdrantSourceTests(QdrantStandInFixture fx) : IClassFixture<QdrantStandInFixture>
{
    /// <summary>A collection of <paramref name="integers"/> integer ids (scattered over the u64 range) and <paramref name="uuids"/> UUIDs.</summary>
    private string MixedCollection(int integers, int uuids, int dimension = 4)
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", dimension));
        var random = new Random(integers * 31 + uuids);
        var records = new List<VectorRecord>();
        for (var i = 0; i < integers; i++)
        {
            var id = i == 0 ? 0UL : i == 1 ? ulong.MaxValue : (ulong)random.NextInt64() * 2 + (ulong)(i % 2);
            records.Add(Dense(id, RandomVector(random, dimension), $$"""{"i":{{i}}}"""));
        }
        for (var i = 0; i < uuids; i++) records.Add(Dense(Guid.NewGuid(), RandomVector(random, dimension)));
        fx.Server.Seed(name, records);
        return name;
    }

    /// <summary>QdrantLog.ReadAheadFull: the reader has all the pages it may hold and waits for the caller.</summary>
    private const int ReadAheadFull = 2006;

    private QdrantSource Source() => new(fx.Client());

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(256)]
    [InlineData(10_000)]
    public async Task Read_returns_every_point_exactly_once_in_Qdrant_order(int pageSize)
    {
        var name = MixedCollection(pageSize == 1 ? 60 : 700, pageSize == 1 ? 40 : 300);
        var expected = fx.Server.Points(name);
        var read = await Source().ReadAsync(new QdrantReadOptions(name) { PageSize = pageSize }).ToListAsync();
        Assert.Equal(expected.Select(r => r.Id), read.Select(r => r.Id));
        for (var i = 0; i < expected.Count; i++) AssertSameFloats(expected[i].Embedding!, read[i].Embedding!);
    }

    [Fact]
    public async Task Read_streams_ten_thousand_points_of_1024_dimensions_intact()
    {
        const int count = 10_000, dimension = 1024;
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", dimension));
        var random = new Random(7);
        fx.Server.Seed(name, Enumerable.Range(0, count).Select(i => Dense((ulong)i * 3, RandomVector(random, dimension), $$"""{"n":{{i}}}""")));
        var expected = fx.Server.Points(name);
        var seen = 0;
        await foreach (var r in Source().ReadAsync(new QdrantReadOptions(name)))
        {
            Assert.Equal(expected[seen].Id, r.Id);
            AssertSameFloats(expected[seen].Embedding!, r.Embedding!);
            Assert.Equal(expected[seen].Payload!.ToString(), r.Payload!.ToString());
            seen++;
        }
        Assert.Equal(count, seen);
    }

    [Fact]
    public async Task Records_carry_one_shared_schema_their_origin_without_credentials_and_a_position()
    {
        var name = MixedCollection(3, 2);
        var url = new UriBuilder(fx.Server.BaseAddress) { UserName = "user", Password = "pa55word" }.Uri;
        var source = new QdrantSource(new QdrantClient(url, null, fx.Transport));
        var read = await source.ReadAsync(new QdrantReadOptions(name) { PageSize = 2 }).ToListAsync();
        Assert.Equal(5, read.Count);
        Assert.All(read, r => Assert.Same(read[0].Schema, r.Schema));
        var origin = read[0].Origin!;
        var endpoint = fx.Server.BaseAddress.ToString().TrimEnd('/');
        Assert.Equal(new RecordOrigin(SourceKind.Qdrant, endpoint, name) { Read = $"Qdrant {endpoint} collection '{name}'" }, origin);
        Assert.Equal(new QdrantReadOptions(name).Describe(endpoint), origin.Read); // what a copy of this read records
        Assert.DoesNotContain("pa55word", origin.Read);
        Assert.DoesNotContain("pa55word", origin.ToString());
        Assert.All(read, r => Assert.Equal(r.Id.ToString(), r.Position));
    }

    [Fact]
    public async Task The_next_page_is_fetched_while_the_caller_holds_the_current_one_and_no_further()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 2));
        fx.Server.Seed(name, Enumerable.Range(0, 30).Select(i => Dense((ulong)i, [i, i])));
        var logs = new CollectingLogger();
        var source = new QdrantSource(fx.Client(), logs);
        var options = new QdrantReadOptions(name) { PageSize = 10, Prefetch = 1 };
        var schema = await source.DescribeAsync(options);
        var before = fx.Server.ScrollRequests;

        await using var e = source.ReadAsync(options, schema).GetAsyncEnumerator();
        Assert.True(await e.MoveNextAsync());
        Assert.Equal(PointId.FromUnsigned(0), e.Current.Id);
        // The reader says when it starts to wait for room (no sleep): it waits with the caller's page and one more
        // fetched. A bound that leaked would not wait there (it would go on to a third), one too tight never gets there.
        await logs.WaitForAsync(ReadAheadFull, containing: "Fetched=2;");
        Assert.Equal(2, fx.Server.ScrollRequests - before);

        var ids = new List<ulong> { e.Current.Id.AsUnsigned };
        while (await e.MoveNextAsync()) ids.Add(e.Current.Id.AsUnsigned);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (ulong)i), ids);
        Assert.Equal(3, fx.Server.ScrollRequests - before);
    }

    [Fact]
    public async Task Prefetch_reads_that_many_pages_ahead_of_the_caller_and_no_further()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 2));
        fx.Server.Seed(name, Enumerable.Range(0, 100).Select(i => Dense((ulong)i, [i, i])));
        var logs = new CollectingLogger();
        var source = new QdrantSource(fx.Client(), logs);
        var options = new QdrantReadOptions(name) { PageSize = 10, Prefetch = 3 };
        var schema = await source.DescribeAsync(options);
        var before = fx.Server.ScrollRequests;

        await using var e = source.ReadAsync(options, schema).GetAsyncEnumerator();
        Assert.True(await e.MoveNextAsync());
        await logs.WaitForAsync(ReadAheadFull, containing: "Fetched=4;");
        Assert.Equal(4, fx.Server.ScrollRequests - before); // the caller's page and three more, then it waits
        for (var i = 0; i < 10; i++) Assert.True(await e.MoveNextAsync()); // into the second page: room for one more
        await logs.WaitForAsync(ReadAheadFull, containing: "Fetched=5;");
        Assert.Equal(5, fx.Server.ScrollRequests - before);

        var ids = new List<ulong> { e.Current.Id.AsUnsigned };
        while (await e.MoveNextAsync()) ids.Add(e.Current.Id.AsUnsigned);
        Assert.Equal(Enumerable.Range(10, 90).Select(i => (ulong)i), ids);
        Assert.Equal(10, fx.Server.ScrollRequests - before);
    }

    [Fact]
    public async Task A_failing_page_ahead_surfaces_after_the_pages_before_it()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 2));
        fx.Server.Seed(name, Enumerable.Range(0, 200).Select(i => Dense((ulong)i, [i, i])));
        var source = Source();
        var options = new QdrantReadOptions(name) { PageSize = 10, Prefetch = 4 }; // at most 5 of 20 pages read before the drop
        var schema = await source.DescribeAsync(options);
        var ids = new List<ulong>();
        await using var e = source.ReadAsync(options, schema).GetAsyncEnumerator();
        Assert.True(await e.MoveNextAsync());
        ids.Add(e.Current.Id.AsUnsigned);
        fx.Server.DropCollection(name); // every later page now answers 404
        var ex = await ThrowsQdrant("QdrantCollectionNotFound", async () =>
        {
            while (await e.MoveNextAsync()) ids.Add(e.Current.Id.AsUnsigned);
        });
        Assert.Equal(0UL, ids[0]);
        Assert.Equal(Enumerable.Range(0, ids.Count).Select(i => (ulong)i), ids); // in order, none lost before the failure
        Assert.Equal(0, ids.Count % 10); // whole pages
        Assert.InRange(ids.Count, 10, 50);
    }

    [Fact]
    public async Task Prefetch_keeps_order_when_the_server_is_slow()
    {
        var name = MixedCollection(40, 20);
        var expected = fx.Server.Points(name).Select(r => r.Id).ToList();
        var source = Source();
        var options = new QdrantReadOptions(name) { PageSize = 9 };
        var schema = await source.DescribeAsync(options);
        fx.Server.Faults.Delay = TimeSpan.FromMilliseconds(15);
        try
        {
            var ids = new List<PointId>();
            await foreach (var r in source.ReadAsync(options, schema))
            {
                ids.Add(r.Id);
                if (ids.Count % 5 == 0) await Task.Delay(20); // a consumer slower than the server
            }
            Assert.Equal(expected, ids);
        }
        finally
        {
            fx.Server.Faults.Delay = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Stopping_early_ends_the_read_quietly()
    {
        var name = MixedCollection(50, 0);
        var first = new List<PointId>();
        await foreach (var r in Source().ReadAsync(new QdrantReadOptions(name) { PageSize = 5 }))
        {
            first.Add(r.Id);
            if (first.Count == 3) break;
        }
        Assert.Equal(fx.Server.Points(name).Take(3).Select(r => r.Id), first);
    }

    [Fact]
    public async Task StartAfter_yields_exactly_the_records_after_the_given_one()
    {
        var name = MixedCollection(25, 15);
        var all = await Source().ReadAsync(new QdrantReadOptions(name) { PageSize = 4 }).ToListAsync();
        Assert.Equal(40, all.Count);
        // the first record, one mid-page, the last integer before the UUIDs, a UUID, the very last
        foreach (var k in new[] { 0, 6, 24, 30, 39 })
        {
            var rest = await Source().ReadAsync(new QdrantReadOptions(name) { PageSize = 4, StartAfter = all[k].Position }).ToListAsync();
            Assert.Equal(all.Skip(k + 1).Select(r => r.Id), rest.Select(r => r.Id));
        }
    }

    [Fact]
    public async Task StartAfter_a_record_that_was_deleted_starts_at_the_next_one()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        fx.Server.Seed(name, new ulong[] { 1, 2, 4, 5 }.Select(i => Dense(i, [1f])));
        var rest = await Source().ReadAsync(new QdrantReadOptions(name) { PageSize = 2, StartAfter = "3" }).ToListAsync();
        Assert.Equal<PointId>([4UL, 5UL], rest.Select(r => r.Id));
    }

    [Fact]
    public async Task StartAfter_that_is_not_a_position_is_refused()
    {
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() =>
            Source().ReadAsync(new QdrantReadOptions("c") { StartAfter = "page-3" }).ToListAsync());
        Assert.Equal("QdrantInvalidPosition", ex.ErrorId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10_001)]
    public async Task A_page_size_outside_1_to_10000_is_refused(int pageSize)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            Source().ReadAsync(new QdrantReadOptions("c") { PageSize = pageSize }).ToListAsync());
    }

    [Fact]
    public async Task A_filter_that_is_not_a_json_object_is_refused_before_any_request()
    {
        var before = fx.Server.Requests;
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() =>
            Source().ReadAsync(new QdrantReadOptions("c") { FilterJson = "{\"must\": [" }).ToListAsync());
        Assert.Equal("QdrantInvalidFilter", ex.ErrorId);
        Assert.Equal(before, fx.Server.Requests);
    }

    [Fact]
    public async Task Read_with_a_filter_yields_only_matching_records()
    {
        var name = MixedCollection(30, 5);
        var read = await Source().ReadAsync(new QdrantReadOptions(name)
        {
            PageSize = 4,
            FilterJson = """{"should":[{"key":"i","match":{"value":3}},{"key":"i","match":{"value":17}}]}""",
        }).ToListAsync();
        Assert.Equal(2, read.Count);
        Assert.All(read, r => Assert.Matches("""^\{"i":(3|17)\}$""", r.Payload!.ToString()));
    }

    [Fact]
    public async Task Describe_builds_the_schema_of_an_unnamed_collection()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 8, "Euclid", "uint8"));
        var schema = await Source().DescribeAsync(new QdrantReadOptions(name));
        Assert.Equal(SourceKind.Qdrant, schema.Source);
        Assert.Equal(name, schema.Name);
        Assert.Equal("payload", schema.PayloadName);
        Assert.False(schema.HasNamespaces);
        Assert.Equal([new VectorField("", VectorKind.Dense, 8, DistanceMetric.Euclid, "uint8")], schema.Vectors);
        Assert.Equal(IdKinds.None, schema.IdKinds);
    }

    [Fact]
    public async Task Describe_builds_named_dense_multi_and_sparse_fields_limited_to_the_selected_vectors()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name,
            [new QdrantStandInVector("img", 4, "Cosine"), new QdrantStandInVector("tok", 2, "Dot", Multivector: true)],
            [new QdrantStandInSparse("bm25", "idf")]);
        var all = await Source().DescribeAsync(new QdrantReadOptions(name));
        Assert.Equal(
            [new VectorField("img", VectorKind.Dense, 4, DistanceMetric.Cosine), new VectorField("tok", VectorKind.Multi, 2, DistanceMetric.Dot),
             new VectorField("bm25", VectorKind.Sparse, null)],
            all.Vectors);
        var some = await Source().DescribeAsync(new QdrantReadOptions(name) { Vectors = QdrantSelection.Only("bm25") });
        Assert.Equal(["bm25"], some.Vectors.Select(v => v.Name));
        var none = await Source().DescribeAsync(new QdrantReadOptions(name) { Vectors = QdrantSelection.None });
        Assert.Empty(none.Vectors);
    }

    [Theory]
    [InlineData(5, 0, IdKinds.Unsigned)]
    [InlineData(0, 5, IdKinds.Uuid)]
    [InlineData(5, 5, IdKinds.Unsigned | IdKinds.Uuid)]
    [InlineData(1, 1, IdKinds.Unsigned | IdKinds.Uuid)]
    [InlineData(0, 0, IdKinds.None)]
    public async Task Describe_probes_which_id_kinds_the_collection_holds(int integers, int uuids, IdKinds expected)
    {
        var name = MixedCollection(integers, uuids);
        var before = fx.Server.ScrollRequests;
        var schema = await Source().DescribeAsync(new QdrantReadOptions(name));
        Assert.Equal(expected, schema.IdKinds);
        Assert.True(fx.Server.ScrollRequests - before <= 2, "at most two one-point probes");
        Assert.All(fx.Server.ScrollBodies.TakeLast(fx.Server.ScrollRequests - before), b => Assert.Contains("\"limit\":1", b));
    }

    [Fact]
    public async Task Describe_probes_id_kinds_with_the_reads_filter()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        fx.Server.Seed(name, [Dense(1UL, [1f], """{"k":"int"}"""), Dense(Guid.NewGuid(), [1f], """{"k":"uuid"}""")]);
        var schema = await Source().DescribeAsync(new QdrantReadOptions(name) { FilterJson = """{"must":{"key":"k","match":{"value":"uuid"}}}""" });
        Assert.Equal(IdKinds.Uuid, schema.IdKinds);
    }

    [Fact]
    public async Task A_server_whose_pages_do_not_advance_is_caught_instead_of_looping_forever()
    {
        var answer = ScrollAnswer("""{"id":5},{"id":6}""", next: "5");
        await using var host = await StandInHostFor(answer);
        var source = new QdrantSource(new QdrantClient(host.BaseAddress, null, fx.Transport));
        var schema = new SourceSchema(SourceKind.Qdrant, "c", IdKinds.Unsigned, [], false, "payload");
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => source.ReadAsync(new QdrantReadOptions("c"), schema).ToListAsync());
        Assert.Equal("QdrantInvalidResponse", ex.ErrorId);
        Assert.Contains("does not lie after", ex.Message);
    }

    [Fact]
    public async Task A_server_that_sends_ids_out_of_order_is_caught()
    {
        await using var host = await StandInHostFor(ScrollAnswer("""{"id":"6f1a8c5e-0000-4000-8000-000000000000"},{"id":7}"""));
        var source = new QdrantSource(new QdrantClient(host.BaseAddress, null, fx.Transport));
        var schema = new SourceSchema(SourceKind.Qdrant, "c", IdKinds.Unsigned, [], false, "payload");
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => source.ReadAsync(new QdrantReadOptions("c"), schema).ToListAsync());
        Assert.Contains("out of id order", ex.Message);
    }

    private static Task<StandInHost> StandInHostFor(string scrollAnswer) => ServeAsync(200, scrollAnswer);
}
