using System.Net;
using System.Text;
using System.Text.Json;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Pinecone;

/// <summary>The stand-in answers as Pinecone does, so that tests which write through it prove something.</summary>
public sealed class PineconeStandInTests
{
    private static string Vector(string id, int dim, string? extra = null) =>
        $$"""{"id":{{JsonSerializer.Serialize(id)}},"values":[{{string.Join(",", Enumerable.Repeat("0.5", dim))}}]{{(extra is null ? "" : "," + extra)}}}""";

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, Uri url, string json)
    {
        var answer = await http.PostAsync(url, PineconeTestKit.Json(json));
        var text = await answer.Content.ReadAsStringAsync();
        return (answer.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Upserted_records_are_stored_and_read_back_through_list_and_fetch()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("write", 3, "dotproduct");
        using var http = kit.RawClient();

        var (status, body) = await PostAsync(http, new Uri(index.Url, "vectors/upsert"),
            """{"namespace":"n","vectors":[{"id":"a","values":[1,2,3],"sparseValues":{"indices":[5],"values":[0.5]},"metadata":{"k":"v"}},{"id":"b","values":[4,5,6]}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetProperty("upsertedCount").GetInt32());
        Assert.Equal(["a", "b"], index.Records("n").Select(r => r.Id));
        var records = await PineconeTestKit.ReadAllAsync(kit.Source("write"));
        Assert.Equal(["n/a", "n/b"], records.Select(r => r.ToString()));
        Assert.Equal("""{"k":"v"}""", records[0].Payload!.ToString());
    }

    public static TheoryData<string, string> Refusals()
    {
        var big = string.Join(",", Enumerable.Range(0, 1001).Select(i => Vector($"v{i}", 2)));
        var huge = string.Join(",", Enumerable.Range(0, 900).Select(i => Vector($"v{i}", 2, $"\"metadata\":{{\"pad\":\"{new string('x', 2400)}\"}}")));
        return new TheoryData<string, string>
        {
            { $$"""{"vectors":[{{big}}]}""", "more than 1000 vectors" },
            { $$"""{"vectors":[{{huge}}]}""", "maximum supported size" },
            { $$"""{"vectors":[{{Vector("m", 2, $"\"metadata\":{{\"pad\":\"{new string('x', 41_000)}\"}}")}}]}""", "exceeds the limit of 40960 bytes" },
            { $$"""{"vectors":[{{Vector("m", 2, "\"metadata\":{\"gone\":null}")}}]}""", "null metadata values are not supported" },
            { $$"""{"vectors":[{{Vector("m", 2, "\"metadata\":{\"deep\":{\"x\":1}}")}}]}""", "nested objects are not supported" },
            { $$"""{"vectors":[{{Vector("m", 2, "\"metadata\":{\"nums\":[1,2]}")}}]}""", "only lists of strings" },
            { $$"""{"vectors":[{{Vector(new string('i', 513), 2)}}]}""", "exceeds the maximum of 512" },
            { $$"""{"vectors":[{{Vector("short", 3)}}]}""", "dimension 3 does not match the dimension of the index 2" },
            { """{"vectors":[]}""", "must not be empty" },
            { """{"vectors":[{"id":"z","values":[0,-0.0]}]}""", "at least one non-zero value" },
            { """{"vectors":[{"id":"s","values":[1,2],"sparseValues":{"indices":[1,1],"values":[1,2]}}]}""", "repeats an index" },
        };
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Upsert_refuses_what_Pinecone_refuses_with_400_and_stores_nothing(string request, string expected)
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("strict", 2);
        using var http = kit.RawClient();

        var (status, body) = await PostAsync(http, new Uri(index.Url, "vectors/upsert"), request);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(3, body.GetProperty("code").GetInt32()); // rpcStatus, INVALID_ARGUMENT
        Assert.Contains(expected, body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Array, body.GetProperty("details").ValueKind);
        Assert.Empty(index.Namespaces());
    }

    [Fact]
    public async Task Upsert_just_under_the_limits_is_accepted()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("edge", 2);
        using var http = kit.RawClient();
        var thousand = string.Join(",", Enumerable.Range(0, 1000).Select(i => Vector($"v{i}", 2)));
        var meta = $"\"metadata\":{{\"pad\":\"{new string('x', 40_000)}\"}}";

        var (s1, _) = await PostAsync(http, new Uri(index.Url, "vectors/upsert"), $$"""{"vectors":[{{thousand}}]}""");
        var (s2, _) = await PostAsync(http, new Uri(index.Url, "vectors/upsert"), $$"""{"vectors":[{{Vector(new string('i', 512), 2, meta)}}]}""");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (s1, s2));
        Assert.Equal(1001, index.Records("").Count);
    }

    [Fact]
    public async Task Upsert_stores_metadata_numbers_as_64_bit_floats()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("num", 2);
        using var http = kit.RawClient();

        await PostAsync(http, new Uri(index.Url, "vectors/upsert"),
            $$"""{"vectors":[{{Vector("n", 2, "\"metadata\":{\"big\":9007199254740993,\"year\":2020,\"s\":\"é\"}")}}]}""");

        using var stored = JsonDocument.Parse(index.Get("", "n")!.Metadata!);
        Assert.Equal(9007199254740992d, stored.RootElement.GetProperty("big").GetDouble());
        Assert.Equal("9007199254740992", stored.RootElement.GetProperty("big").GetRawText());
        Assert.Equal("é", stored.RootElement.GetProperty("s").GetString());
    }

    [Fact]
    public async Task List_refuses_a_limit_over_100_and_fetch_more_than_1000_ids()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("limits", 2);
        using var http = kit.RawClient();

        var list = await http.GetAsync(new Uri(index.Url, "vectors/list?limit=101"));
        var fetch = await http.GetAsync(new Uri(index.Url, "vectors/fetch?" + string.Join("&", Enumerable.Range(0, 1001).Select(i => $"ids={i}"))));
        var okFetch = await http.GetAsync(new Uri(index.Url, "vectors/fetch?" + string.Join("&", Enumerable.Range(0, 1000).Select(i => $"ids={i}"))));

        Assert.Equal(HttpStatusCode.BadRequest, list.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, fetch.StatusCode);
        Assert.Contains("more than 1000", await fetch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, okFetch.StatusCode);
    }

    [Fact]
    public async Task List_pages_hold_at_most_100_ids_with_an_opaque_base64_token()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("pages", 2);
        for (var i = 0; i < 250; i++) index.Seed("", $"id{i:D3}", [1, 2]);

        var first = await kit.Client.ListIdsAsync(index.Url, "");
        var second = await kit.Client.ListIdsAsync(index.Url, "", paginationToken: first.NextToken);
        var third = await kit.Client.ListIdsAsync(index.Url, "", paginationToken: second.NextToken);

        Assert.Equal((100, 100, 50), (first.Ids.Count, second.Ids.Count, third.Ids.Count));
        Assert.Equal("id100", second.Ids[0]);
        Assert.Null(third.NextToken);
        Assert.NotNull(Convert.FromBase64String(first.NextToken!)); // real tokens are base64 too
    }

    [Fact]
    public async Task Full_last_page_carries_a_token_to_an_empty_page_that_the_source_accepts()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("exact", 2);
        for (var i = 0; i < 20; i++) index.Seed("", $"e{i:D2}", [1, 2]);

        var page = await kit.Client.ListIdsAsync(index.Url, "", limit: 20);
        var empty = await kit.Client.ListIdsAsync(index.Url, "", limit: 20, paginationToken: page.NextToken);
        var records = await PineconeTestKit.ReadAllAsync(kit.Source("exact"), new PineconeReadOptions { PageSize = 10 });

        Assert.NotNull(page.NextToken);
        Assert.Empty(empty.Ids);
        Assert.Null(empty.NextToken);
        Assert.Equal(20, records.Count);
    }

    [Fact]
    public async Task Requests_without_the_api_version_header_or_with_a_wrong_key_are_refused()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("hdr", 2);
        using var noVersion = kit.RawClient(version: null);
        using var wrongKey = kit.RawClient(apiKey: "nope");

        var a = await noVersion.PostAsync(new Uri(index.Url, "describe_index_stats"), PineconeTestKit.Json("{}"));
        var b = await wrongKey.PostAsync(new Uri(index.Url, "describe_index_stats"), PineconeTestKit.Json("{}"));
        var c = await wrongKey.GetAsync(new Uri(kit.StandIn.ControlPlaneUrl, "indexes"));

        Assert.Equal(HttpStatusCode.BadRequest, a.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, b.StatusCode);
        Assert.Equal(16, JsonDocument.Parse(await b.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, c.StatusCode);
        using var control = JsonDocument.Parse(await c.Content.ReadAsStringAsync());
        Assert.Equal("UNAUTHENTICATED", control.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(401, control.RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Control_plane_describes_indexes_with_host_spec_and_status()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var serverless = await kit.StandIn.CreateIndexAsync("sl", 8, "euclidean");
        await kit.StandIn.CreateIndexAsync("pd", 8, deployment: PineconeStandInDeployment.Pod);
        await kit.StandIn.CreateIndexAsync("sp", null, "dotproduct");

        var all = await kit.Client.ListIndexesAsync();
        var sl = await kit.Client.DescribeIndexAsync("sl");

        Assert.Equal(["pd", "sl", "sp"], all.Select(i => i.Name));
        Assert.Equal(new PineconeIndexModel("sl", serverless.HostName, 8, "euclidean", "dense", PineconeDeployment.Serverless, true, "Ready"), sl);
        Assert.Equal(PineconeDeployment.Pod, all[0].Deployment);
        Assert.Equal((null, "sparse"), (all[2].Dimension, all[2].VectorType));
    }

    [Fact]
    public async Task Ascii_only_mode_refuses_non_ascii_ids_as_newer_api_versions_document()
    {
        await using var kit = await PineconeTestKit.StartAsync(new PineconeStandInOptions { RequireAsciiIds = true });
        var index = await kit.StandIn.CreateIndexAsync("ascii", 2);
        using var http = kit.RawClient();

        var (status, _) = await PostAsync(http, new Uri(index.Url, "vectors/upsert"), $$"""{"vectors":[{{Vector("naïve", 2)}}]}""");
        var ok = await PostAsync(http, new Uri(index.Url, "vectors/upsert"), $$"""{"vectors":[{{Vector("plain a+b#c", 2)}}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(HttpStatusCode.OK, ok.Status);
    }

    [Fact]
    public async Task Stats_name_the_default_namespace_as_configured_and_count_per_namespace()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("counts", 2);
        index.Seed("", "a", [1, 2]);
        index.Seed("__default__", "b", [1, 2]); // the reserved name is the default namespace
        index.Seed("x", "c", [1, 2]);

        var stats = await kit.Client.DescribeIndexStatsAsync(index.Url);

        Assert.Equal(new Dictionary<string, long> { ["__default__"] = 2, ["x"] = 1 }, stats.Namespaces);
        Assert.Equal((2, 3L, "cosine", "dense"), (stats.Dimension, stats.TotalVectorCount, stats.Metric, stats.VectorType));
    }

    [Fact]
    public async Task Response_delay_slows_every_answer()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("slow", 2);
        kit.StandIn.ResponseDelay = TimeSpan.FromMilliseconds(400);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await kit.Client.DescribeIndexStatsAsync(index.Url);

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(390), $"took {clock.Elapsed}");
    }
}
