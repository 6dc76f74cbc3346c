using System.Text;
using System.Text.Json;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Pinecone;

public sealed class PineconeReadTests
{
    /// <summary>PineconeLog.PageReady: a page is listed and fetched.</summary>
    private const int PageReady = 3009;

    private static float[] Vec(int seed, int dim = 4) => Enumerable.Range(0, dim).Select(i => seed * 0.25f + i).ToArray();

    [Fact]
    public async Task Ids_with_spaces_reserved_characters_and_non_ascii_survive_list_and_fetch()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("odd-ids", 4);
        string[] ids =
        [
            "a b", "a#b", "a&b", "a/b", "a+b", "a%b", "a%20b", "a?b", "a=b", "a;b", "#", "%", "+", "&&", "?x=1&y=2",
            "trailing ", " leading", "naïve", "日本語", "emoji😀", "quote\"d", "back\\slash", "tab\tin", "%2B", "a+b c%26d#e",
        ];
        for (var i = 0; i < ids.Length; i++)
        {
            index.Seed("", ids[i], Vec(i), metadataJson: JsonSerializer.Serialize(new { orig = ids[i] }));
        }

        // Small pages: tokens (base64 with '+', '/', '=') and ids travel in query strings many times.
        var records = await PineconeTestKit.ReadAllAsync(kit.Source("odd-ids"), new PineconeReadOptions { PageSize = 3 });

        Assert.Equal(index.Records("").Select(r => r.Id), records.Select(r => r.Id.AsString));
        Assert.Equal(ids.Order(StringComparer.Ordinal), records.Select(r => r.Id.AsString).Order(StringComparer.Ordinal));
        foreach (var r in records)
        {
            using var meta = JsonDocument.Parse(r.Payload!.Utf8Json);
            Assert.Equal(r.Id.AsString, meta.RootElement.GetProperty("orig").GetString());
            Assert.Equal(Vec(Array.IndexOf(ids, r.Id.AsString)), r.Embedding);
        }
    }

    [Theory]
    [InlineData("__default__")]
    [InlineData("")]
    public async Task Every_namespace_is_read_and_the_default_one_is_called_empty(string serverNameOfDefault)
    {
        await using var kit = await PineconeTestKit.StartAsync(new PineconeStandInOptions { DefaultNamespaceName = serverNameOfDefault });
        var index = await kit.StandIn.CreateIndexAsync("three-ns", 4);
        for (var i = 0; i < 5; i++) index.Seed("", $"d{i}", Vec(i));
        for (var i = 0; i < 7; i++) index.Seed("alpha", $"a{i}", Vec(i));
        for (var i = 0; i < 3; i++) index.Seed("beta", $"b{i}", Vec(i));

        var records = await PineconeTestKit.ReadAllAsync(kit.Source("three-ns"));

        var byNs = records.GroupBy(r => r.Namespace!).ToDictionary(g => g.Key, g => g.Select(r => r.Id.AsString).ToList());
        Assert.Equal(["", "alpha", "beta"], byNs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(5, byNs[""].Count);
        Assert.Equal(7, byNs["alpha"].Count);
        Assert.Equal(3, byNs["beta"].Count);
        Assert.All(byNs[""], id => Assert.StartsWith("d", id, StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.Namespace == PineconeNamespace.ReservedDefault);
    }

    [Fact]
    public async Task Same_id_in_two_namespaces_comes_out_once_per_namespace_with_its_own_data()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("twins", 4);
        index.Seed("left", "same", [1, 2, 3, 4], metadataJson: """{"side":"left"}""");
        index.Seed("right", "same", [5, 6, 7, 8], metadataJson: """{"side":"right"}""");

        var records = await PineconeTestKit.ReadAllAsync(kit.Source("twins"));

        Assert.Equal(2, records.Count);
        var left = Assert.Single(records, r => r.Namespace == "left");
        var right = Assert.Single(records, r => r.Namespace == "right");
        Assert.Equal("same", left.Id.AsString);
        Assert.Equal("same", right.Id.AsString);
        Assert.Equal([1f, 2, 3, 4], left.Embedding!);
        Assert.Equal([5f, 6, 7, 8], right.Embedding!);
        Assert.Equal("""{"side":"right"}""", right.Payload!.ToString());
        Assert.NotEqual(left.Position, right.Position);
    }

    [Fact]
    public async Task Prefix_filter_reads_only_ids_that_start_with_it()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("docs", 4);
        for (var i = 0; i < 130; i++)
        {
            index.Seed("ns", $"doc1#{i:D3}", Vec(i));
            index.Seed("ns", $"doc10#{i:D3}", Vec(i));
            index.Seed("ns", $"doc2#{i:D3}", Vec(i));
        }

        var records = await PineconeTestKit.ReadAllAsync(kit.Source("docs"), new PineconeReadOptions { IdPrefix = "doc1#", PageSize = 50 });

        Assert.Equal(130, records.Count);
        Assert.All(records, r => Assert.StartsWith("doc1#", r.Id.AsString, StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, 130).Select(i => $"doc1#{i:D3}"), records.Select(r => r.Id.AsString));
    }

    [Fact]
    public async Task Named_namespaces_are_read_alone_and_in_the_order_given()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("chosen", 4);
        index.Seed("", "d", Vec(1));
        index.Seed("a", "x", Vec(2));
        index.Seed("b", "y", Vec(3));
        index.Seed("c", "z", Vec(4));

        var records = await PineconeTestKit.ReadAllAsync(kit.Source("chosen"), new PineconeReadOptions { Namespaces = ["c", "__default__", "a"] });

        Assert.Equal(["c/z", "/d", "a/x"], records.Select(r => $"{r.Namespace}/{r.Id}"));
    }

    [Fact]
    public async Task Sparse_index_records_carry_only_the_sparse_vector()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("lexical", null, "dotproduct");
        index.Seed("", "s1", sparseIndices: [3, 17, 4_000_000_000], sparseValues: [0.5f, -1.25f, 3f]);
        index.Seed("", "s2", sparseIndices: [0], sparseValues: [1f], metadataJson: """{"k":"v"}""");

        var source = kit.Source("lexical");
        var schema = await source.DescribeAsync();
        var records = await PineconeTestKit.ReadAllAsync(source);

        var field = Assert.Single(schema.Vectors);
        Assert.Equal(("sparse", VectorKind.Sparse, DistanceMetric.Dot), (field.Name, field.Kind, field.Metric));
        Assert.Equal(2, records.Count);
        var s1 = records[0];
        Assert.Equal("s1", s1.Id.AsString);
        Assert.Null(s1.Embedding);
        var sparse = Assert.IsType<SparseVector>(Assert.Single(s1.Vectors).Value);
        Assert.Equal([3u, 17u, 4_000_000_000u], sparse.Indices);
        Assert.Equal([0.5f, -1.25f, 3f], sparse.Values);
        Assert.Same(schema, s1.Schema);
    }

    [Fact]
    public async Task Dense_and_sparse_records_of_a_dotproduct_index_carry_both_vectors()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("hybrid", 3, "dotproduct");
        index.Seed("", "h1", [1, 2, 3], [7, 9], [0.1f, 0.2f]);
        index.Seed("", "h2", [4, 5, 6]);

        var source = kit.Source("hybrid");
        var schema = await source.DescribeAsync();
        var records = await PineconeTestKit.ReadAllAsync(source);

        Assert.Equal([("", VectorKind.Dense, (int?)3, DistanceMetric.Dot), ("sparse", VectorKind.Sparse, null, DistanceMetric.Dot)],
            schema.Vectors.Select(v => (v.Name, v.Kind, v.Dimension, v.Metric)));
        Assert.Equal([1f, 2, 3], records[0].Embedding!);
        var sparse = Assert.IsType<SparseVector>(records[0].Vectors["sparse"]);
        Assert.Equal([7u, 9u], sparse.Indices);
        Assert.Equal([4f, 5, 6], records[1].Embedding!);
        Assert.False(records[1].Vectors.ContainsKey("sparse"));
    }

    [Theory]
    [InlineData("cosine", DistanceMetric.Cosine)]
    [InlineData("euclidean", DistanceMetric.Euclid)]
    public async Task Schema_of_a_dense_index_has_its_dimension_and_metric_and_no_sparse_field(string metric, DistanceMetric expected)
    {
        await using var kit = await PineconeTestKit.StartAsync();
        await kit.StandIn.CreateIndexAsync("dense", 1536, metric);

        foreach (var byHost in new[] { false, true })
        {
            var schema = await kit.Source("dense", byHost).DescribeAsync();
            var field = Assert.Single(schema.Vectors);
            Assert.Equal(("", VectorKind.Dense, (int?)1536, expected), (field.Name, field.Kind, field.Dimension, field.Metric));
            Assert.Equal((SourceKind.Pinecone, IdKinds.String, true, "metadata", "dense"),
                (schema.Source, schema.IdKinds, schema.HasNamespaces, schema.PayloadName, schema.Name));
        }
    }

    [Fact]
    public async Task Metadata_of_every_supported_type_arrives_as_the_servers_own_bytes()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("meta", 2);
        // Odd spacing and escapes: any re-serialization on the way would change these bytes.
        const string seeded = """{ "s" : "x\u00e9y", "n":1.50, "i": 42, "neg": -0.0, "exp": 1E+3, "t":true, "f" :false, "l":["a","b\"c"], "u":"ü😀" }""";
        index.Seed("", "m1", [1, 2], metadataJson: seeded);
        using var http = kit.RawClient();
        var upsert = await http.PostAsync(new Uri(index.Url, "vectors/upsert"), PineconeTestKit.Json(
            """{"vectors":[{"id":"m2","values":[3,4],"metadata":{"year":2020,"tags":["x","y"],"ok":true,"title":"Zoë"}}]}"""));
        Assert.True(upsert.IsSuccessStatusCode, await upsert.Content.ReadAsStringAsync());

        var records = await PineconeTestKit.ReadAllAsync(kit.Source("meta"));

        Assert.Equal(Encoding.UTF8.GetBytes(seeded), records[0].Payload!.Utf8Json.ToArray());
        Assert.Equal(index.Get("", "m2")!.Metadata, records[1].Payload!.Utf8Json.ToArray());
        Assert.True(JsonPayload.DeepEquals("""{"year":2020.0,"tags":["x","y"],"ok":true,"title":"Zoë"}"""u8, records[1].Payload!.Utf8Json.Span));
    }

    [Fact]
    public async Task Record_without_metadata_has_no_payload()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("bare", 2);
        index.Seed("", "plain", [1, 2]);

        var record = Assert.Single(await PineconeTestKit.ReadAllAsync(kit.Source("bare")));

        Assert.Null(record.Payload);
        Assert.Equal(new RecordOrigin(SourceKind.Pinecone, index.Url.AbsoluteUri.TrimEnd('/'), "bare") { Read = "Pinecone index 'bare'" }, record.Origin);
    }

    [Fact]
    public async Task Ten_thousand_records_over_many_pages_arrive_complete_and_in_list_order()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("big", 8);
        var rng = new Random(7);
        for (var i = 0; i < 10_000; i++)
        {
            index.Seed(i % 3 == 0 ? "" : "ns-b", $"rec-{rng.Next():x8}-{i}", Vec(i, 8), metadataJson: $$"""{"i":{{i}}}""");
        }

        var records = await PineconeTestKit.ReadAllAsync(kit.Source("big"));

        Assert.Equal(10_000, records.Count);
        Assert.Equal(index.Records("").Select(r => r.Id).Concat(index.Records("ns-b").Select(r => r.Id)), records.Select(r => r.Id.AsString));
        Assert.All(records, r => Assert.NotNull(r.Position));
        Assert.Equal(10_000, records.Select(r => r.Position).Distinct().Count());
        var fetches = kit.StandIn.Requests.Where(r => r.Path == "/vectors/fetch").ToList();
        Assert.True(fetches.Count >= 100, $"only {fetches.Count} fetch calls");
        Assert.All(fetches, f => Assert.InRange(f.RawTarget.Split("ids=").Length - 1, 1, 100));
        Assert.All(kit.StandIn.Requests, r => Assert.Equal(200, r.Status));
    }

    [Fact]
    public async Task Listed_id_deleted_before_its_fetch_is_skipped_and_logged()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("churn", 4);
        for (var i = 0; i < 20; i++) index.Seed("", $"id{i:D2}", Vec(i));
        index.BeforeFetch = (ns, ids) =>
        {
            if (ids.Contains("id07")) index.Delete(ns, "id07");
        };

        var records = await PineconeTestKit.ReadAllAsync(kit.Source("churn"), new PineconeReadOptions { PageSize = 5 });

        Assert.Equal(19, records.Count);
        Assert.DoesNotContain(records, r => r.Id.AsString == "id07");
        Assert.Equal(1, kit.Logs.Count(3004));
        Assert.Contains("id07", kit.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resuming_after_any_position_yields_exactly_the_remaining_records()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("resume", 4);
        foreach (var ns in new[] { "", "n1", "n2" })
        {
            for (var i = 0; i < 23; i++) index.Seed(ns, $"{ns}-{i:D2}", Vec(i));
        }
        var source = kit.Source("resume");
        var options = new PineconeReadOptions { PageSize = 7 };
        var all = await PineconeTestKit.ReadAllAsync(source, options);
        Assert.Equal(69, all.Count);

        foreach (var cut in new[] { 0, 5, 6, 7, 13, 22, 23, 40, 67, 68 })
        {
            var rest = await PineconeTestKit.ReadAllAsync(source, new PineconeReadOptions { PageSize = 7, StartAfter = all[cut].Position });
            Assert.Equal(all.Skip(cut + 1).Select(r => r.ToString()), rest.Select(r => r.ToString()));
            Assert.Equal(all.Skip(cut + 1).Select(r => r.Position), rest.Select(r => r.Position));
        }
    }

    [Fact]
    public async Task Resuming_after_records_were_added_before_the_cut_still_skips_what_was_read()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("grow", 4);
        for (var i = 0; i < 30; i++) index.Seed("", $"k{i:D2}", Vec(i));
        var source = kit.Source("grow");
        var all = await PineconeTestKit.ReadAllAsync(source, new PineconeReadOptions { PageSize = 10 });
        var cut = all[14]; // k14, fifth of the second page

        index.Seed("", "k11a", Vec(99)); // sorts before the cut, inside its page
        index.Seed("", "k14a", Vec(98)); // sorts after the cut
        var rest = await PineconeTestKit.ReadAllAsync(source, new PineconeReadOptions { PageSize = 10, StartAfter = cut.Position });

        Assert.Equal(new[] { "k14a" }.Concat(Enumerable.Range(15, 15).Select(i => $"k{i:D2}")), rest.Select(r => r.Id.AsString));
        Assert.Equal(1, kit.Logs.Count(3006));
    }

    [Fact]
    public async Task Position_from_another_prefix_is_refused()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("pos", 4);
        for (var i = 0; i < 5; i++) index.Seed("", $"p{i}", Vec(i));
        var source = kit.Source("pos");
        var first = (await PineconeTestKit.ReadAllAsync(source))[1];

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() =>
            PineconeTestKit.ReadAllAsync(source, new PineconeReadOptions { IdPrefix = "p", StartAfter = first.Position }));
        Assert.Equal(PineconeErrorIds.InvalidArgument, ex.ErrorId);
        var garbled = await Assert.ThrowsAsync<VecMigrateException>(() =>
            PineconeTestKit.ReadAllAsync(source, new PineconeReadOptions { StartAfter = "not-a-position" }));
        Assert.Equal(PineconeErrorIds.InvalidPosition, garbled.ErrorId);
    }

    [Fact]
    public async Task Next_page_is_read_while_the_caller_holds_the_current_one_but_no_further()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("ahead", 4);
        for (var i = 0; i < 50; i++) index.Seed("", $"r{i:D2}", Vec(i));
        int Lists() => kit.StandIn.Requests.Count(r => r.Path == "/vectors/list");
        int Fetches() => kit.StandIn.Requests.Count(r => r.Path == "/vectors/fetch");

        await using var e = kit.Source("ahead").ReadAsync(new PineconeReadOptions { PageSize = 10 }).GetAsyncEnumerator();
        Assert.True(await e.MoveNextAsync());
        // A page is started only when the caller takes the one before it: once the page after the caller's is
        // ready (the reader says so, no sleep), exactly two lists and two fetches have been made.
        await kit.Logs.WaitForAsync(PageReady, 2);
        Assert.Equal((2, 2), (Lists(), Fetches()));
        Assert.Equal("r00", e.Current.Id.AsString);
        for (var i = 0; i < 10; i++) Assert.True(await e.MoveNextAsync()); // the caller takes page 2: page 3 starts
        await kit.Logs.WaitForAsync(PageReady, 3);
        Assert.Equal((3, 3), (Lists(), Fetches()));
        Assert.Equal("r10", e.Current.Id.AsString);
    }

    [Fact]
    public async Task Fetch_calls_stay_within_1000_ids_and_the_url_length_limit()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("wide", 2);
        var ids = new List<string>();
        for (var i = 0; i < 2300; i++) ids.Add($"s{i}");
        for (var i = 0; i < 40; i++) ids.Add(new string('é', 300) + i); // 300 × "%C3%A9" per id
        foreach (var id in ids) index.Seed("w", id, [1, 2]);

        var got = await kit.Client.FetchAsync(index.Url, "w", ids);

        Assert.Equal(ids.Count, got.Count);
        var fetches = kit.StandIn.Requests.Where(r => r.Path == "/vectors/fetch").ToList();
        Assert.All(fetches, f => Assert.InRange(f.RawTarget.Split("ids=").Length - 1, 1, 1000));
        Assert.All(fetches, f => Assert.True(new Uri(index.Url, f.RawTarget).AbsoluteUri.Length <= kit.Client.Options.MaxUrlLength));
        Assert.True(fetches.Count >= 6, $"{fetches.Count} calls");
        Assert.All(got, kv => Assert.Equal("w", kv.Value.Namespace));
    }

    [Fact]
    public async Task Given_ids_are_read_from_a_pod_based_index_in_their_order()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("pods", 2, deployment: PineconeStandInDeployment.Pod);
        index.Seed("", "b", [1, 1]);
        index.Seed("", "a", [2, 2]);
        index.Seed("x", "c", [3, 3]);

        var records = await PineconeTestKit.ReadAllAsync(kit.Source("pods"), new PineconeReadOptions { Ids = ["b", "missing", "a", "c"] });

        Assert.Equal(["/b", "/a", "x/c"], records.Select(r => $"{r.Namespace}/{r.Id}"));
        Assert.DoesNotContain(kit.StandIn.Requests, r => r.Path == "/vectors/list");
        var rest = await PineconeTestKit.ReadAllAsync(kit.Source("pods"), new PineconeReadOptions { Ids = ["b", "missing", "a", "c"], StartAfter = records[0].Position });
        Assert.Equal(["/a", "x/c"], rest.Select(r => $"{r.Namespace}/{r.Id}"));
    }

    [Fact]
    public async Task Ids_come_out_in_the_byte_order_of_their_utf8_not_of_utf16()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("order", 2);
        // U+E000 is EE 80 80 in UTF-8, U+1F600 is F0 9F 98 80: UTF-8 puts U+E000 first, UTF-16 (D83D...) the other way.
        string[] ids = ["\uE000", "😀", "z", "é", "A"];
        foreach (var id in ids) index.Seed("", id, [1, 2]);

        var records = await PineconeTestKit.ReadAllAsync(kit.Source("order"), new PineconeReadOptions { PageSize = 2 });

        Assert.Equal(["A", "z", "é", "\uE000", "😀"], records.Select(r => r.Id.AsString));
        Assert.True(string.CompareOrdinal("😀", "\uE000") < 0); // what a naive ordinal sort would have done
    }
}
