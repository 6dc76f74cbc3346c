using System.Net;
using System.Net.Sockets;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

public sealed class QdrantErrorTests(QdrantStandInFixture fx) : IClassFixture<QdrantStandInFixture>
{
    private const string Key = "s3cr3t-Key-That-Must-Not-Leak-7f9a";
    private static readonly QdrantScrollRequest AnyPage = new() { Limit = 10 };

    private static void AssertNoKey(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            Assert.DoesNotContain(Key, e.Message);
            if (e is VecMigrateException v) Assert.DoesNotContain(Key, v.Target ?? "");
        }
        Assert.DoesNotContain(Key, ex.ToString());
    }

    [Fact]
    public async Task Wrong_api_key_is_QdrantUnauthorized_with_Qdrants_message_and_without_the_key()
    {
        await using var server = await QdrantStandIn.StartAsync(apiKey: "the-right-key");
        server.CreateCollection("c", new QdrantStandInVector("", 1));
        using var client = new QdrantClient(server.BaseAddress, new ApiSecret(Key), fx.Transport);
        var ex = await ThrowsQdrant("QdrantUnauthorized", () => client.GetCollectionAsync("c"));
        Assert.Equal(FailureKind.Unauthorized, ex.Kind);
        Assert.Contains("Invalid API key or JWT", ex.Message);
        Assert.StartsWith(server.BaseAddress.ToString(), ex.Target);
        AssertNoKey(ex);
        AssertNoKey(await ThrowsQdrant("QdrantUnauthorized", () => client.ScrollAsync("c", AnyPage)));
        AssertNoKey(await ThrowsQdrant("QdrantUnauthorized", () => client.ListCollectionsAsync()));
    }

    [Fact]
    public async Task Missing_api_key_says_that_one_is_needed()
    {
        await using var server = await QdrantStandIn.StartAsync(apiKey: Key);
        using var client = new QdrantClient(server.BaseAddress, null, fx.Transport);
        var ex = await ThrowsQdrant("QdrantUnauthorized", () => client.ListCollectionsAsync());
        Assert.Contains("without an API key", ex.Message);
        Assert.Contains("Must provide an API key", ex.Message);
    }

    [Fact]
    public async Task Right_api_key_is_sent_in_the_api_key_header()
    {
        await using var server = await QdrantStandIn.StartAsync(apiKey: Key);
        server.CreateCollection("c", new QdrantStandInVector("", 1));
        using var client = new QdrantClient(server.BaseAddress, new ApiSecret(Key), fx.Transport);
        Assert.Equal("c", (await client.GetCollectionAsync("c")).Name);
    }

    [Fact]
    public async Task A_server_that_echoes_the_key_in_its_error_does_not_get_it_into_the_message()
    {
        await using var host = await ServeAsync(403, $$"""{"status":{"error":"key {{Key}} is not allowed"},"time":0}""");
        using var client = new QdrantClient(host.BaseAddress, new ApiSecret(Key), fx.Transport);
        var ex = await ThrowsQdrant("QdrantUnauthorized", () => client.ListCollectionsAsync());
        Assert.Contains("is not allowed", ex.Message);
        AssertNoKey(ex);
    }

    [Fact]
    public async Task Qdrant_Cloud_style_error_body_is_read_too()
    {
        await using var host = await ServeAsync(403, """{"error":"key doesn't exist"}""");
        using var client = new QdrantClient(host.BaseAddress, new ApiSecret(Key), fx.Transport);
        var ex = await ThrowsQdrant("QdrantUnauthorized", () => client.ListCollectionsAsync());
        Assert.Contains("key doesn't exist", ex.Message);
    }

    [Fact]
    public void An_api_key_that_cannot_be_a_header_is_refused_without_showing_it()
    {
        var ex = Assert.Throws<ArgumentException>(() => new QdrantClient(null, new ApiSecret(Key + "\r\nX-Evil: 1")));
        AssertNoKey(ex);
    }

    [Fact]
    public async Task Missing_collection_is_QdrantCollectionNotFound_with_Qdrants_message()
    {
        using var client = fx.Client();
        var info = await ThrowsQdrant("QdrantCollectionNotFound", () => client.GetCollectionAsync("no_such_collection"));
        Assert.Equal(FailureKind.NotFound, info.Kind);
        Assert.Contains("Collection `no_such_collection` doesn't exist!", info.Message);
        Assert.Equal(new Uri(fx.Server.BaseAddress, "collections/no_such_collection").ToString(), info.Target);
        var scroll = await ThrowsQdrant("QdrantCollectionNotFound", () => client.ScrollAsync("no_such_collection", AnyPage));
        Assert.Contains("doesn't exist", scroll.Message);
    }

    [Fact]
    public async Task Unreachable_server_is_QdrantUnreachable_after_the_retries()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        using var client = new QdrantClient(new Uri($"http://127.0.0.1:{port}"), new ApiSecret(Key), fx.Transport);
        var ex = await ThrowsQdrant("QdrantUnreachable", () => client.ListCollectionsAsync());
        Assert.Equal(FailureKind.Unreachable, ex.Kind);
        Assert.Contains($"127.0.0.1:{port}", ex.Target);
        Assert.Contains("4 attempt", ex.Message);
        AssertNoKey(ex);
    }

    [Fact]
    public async Task Transient_503_and_429_are_retried_until_the_answer_comes()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        fx.Server.Seed(name, [Dense(1UL, [1f])]);
        using var client = fx.Client();
        var before = fx.Server.Faults.Injected;
        fx.Server.Faults.FailNext(2, 503, pathEndsWith: "/points/scroll");
        fx.Server.Faults.FailNext(1, 429, TimeSpan.FromSeconds(1), pathEndsWith: "/points/scroll");
        var page = await client.ScrollAsync(name, AnyPage);
        Assert.Single(page.Points);
        Assert.Equal(before + 3, fx.Server.Faults.Injected);
    }

    [Fact]
    public async Task Retries_that_run_out_end_in_QdrantServerError_or_QdrantRateLimited()
    {
        await using var server = await QdrantStandIn.StartAsync();
        using var client = new QdrantClient(server.BaseAddress, new ApiSecret(Key), fx.Transport);
        server.Faults.FailNext(4, 503);
        var unavailable = await ThrowsQdrant("QdrantServerError", () => client.ListCollectionsAsync());
        Assert.Contains("Service unavailable", unavailable.Message);
        server.Faults.FailNext(4, 429);
        var limited = await ThrowsQdrant("QdrantRateLimited", () => client.ListCollectionsAsync());
        Assert.Equal(FailureKind.LimitExceeded, limited.Kind);
        AssertNoKey(limited);
    }

    [Fact]
    public async Task A_filter_Qdrant_cannot_read_is_QdrantBadRequest_with_its_message()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        using var client = fx.Client();
        var ex = await ThrowsQdrant("QdrantBadRequest", () => client.ScrollAsync(name, new QdrantScrollRequest { FilterJson = """{"mustt":[]}""" }));
        Assert.Contains("unknown field `mustt`", ex.Message);
    }

    [Fact]
    public async Task A_wrong_base_path_is_QdrantNotFound()
    {
        await using var host = await ServeAsync(404, "");
        using var client = new QdrantClient(new Uri(host.BaseAddress, "not-qdrant/"), null, fx.Transport);
        var ex = await ThrowsQdrant("QdrantNotFound", () => client.ListCollectionsAsync());
        Assert.Contains("not-qdrant/collections", ex.Target);
    }

    [Theory]
    [InlineData("<html>oops</html>", "not valid JSON")]
    [InlineData("""{"status":"ok","time":0}""", "no `result`")]
    [InlineData("""{"result":null,"status":"ok"}""", "`result` is null")]
    [InlineData("""{"result":{"next_page_offset":null}}""", "no `points`")]
    [InlineData("""{"result":{"points":[{"id":1,"vector":[1,"2",3]}]}}""", "holds a string at element 1")]
    [InlineData("""{"result":{"points":[{"id":1,"vector":[1e39]}]}}""", "not a finite float32")]
    [InlineData("""{"result":{"points":[{"id":1,"vector":{"v":[[1,2],[3]]}}]}}""", "rows of 2 and 1 dimensions")]
    [InlineData("""{"result":{"points":[{"id":1,"vector":{"s":{"indices":[1,2],"values":[1]}}}]}}""", "2 indices but 1 values")]
    [InlineData("""{"result":{"points":[{"id":1,"vector":{"s":{"indices":[-1],"values":[1]}}}]}}""", "not an unsigned 32-bit integer")]
    [InlineData("""{"result":{"points":[{"id":1,"vector":"abc"}]}}""", "`vector` is a string")]
    [InlineData("""{"result":{"points":[{"id":-1}]}}""", "-1 is neither an unsigned 64-bit integer nor a UUID")]
    [InlineData("""{"result":{"points":[{"id":1.5}]}}""", "1.5 is neither")]
    [InlineData("""{"result":{"points":[{"id":18446744073709551616}]}}""", "18446744073709551616 is neither")]
    [InlineData("""{"result":{"points":[{"id":"not-a-uuid"}]}}""", "\"not-a-uuid\" is neither")]
    [InlineData("""{"result":{"points":[{"payload":{}}]}}""", "has no `id`")]
    [InlineData("""{"result":{"points":[{"id":1,"payload":[1]}]}}""", "`payload` is an array")]
    [InlineData("""{"result":{"points":[],"next_page_offset":true}}""", "next_page_offset` is true")]
    [InlineData("""{"result":{"points":[{"id":1,"vector":[1,2""", "not valid JSON")]
    public async Task A_malformed_scroll_answer_is_QdrantInvalidResponse_naming_what_is_wrong(string body, string expected)
    {
        await using var host = await ServeAsync(200, body);
        using var client = new QdrantClient(host.BaseAddress, new ApiSecret(Key), fx.Transport);
        var ex = await ThrowsQdrant("QdrantInvalidResponse", () => client.ScrollAsync("c", AnyPage));
        Assert.Equal(FailureKind.InvalidResponse, ex.Kind);
        Assert.Contains(expected, ex.Message);
        Assert.EndsWith("/collections/c/points/scroll", ex.Target);
        AssertNoKey(ex);
    }

    [Theory]
    [InlineData("""{"result":{"collections":[{"nome":"x"}]}}""", "has no `name`")]
    [InlineData("""{"result":{}}""", "`result.collections` is missing")]
    public async Task A_malformed_collection_list_is_QdrantInvalidResponse(string body, string expected)
    {
        await using var host = await ServeAsync(200, body);
        using var client = new QdrantClient(host.BaseAddress, null, fx.Transport);
        var ex = await ThrowsQdrant("QdrantInvalidResponse", () => client.ListCollectionsAsync());
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("""{"result":{"status":"green","config":{"params":{"vectors":{"size":0,"distance":"Cosine"}}}}}""", "size` is missing or not a positive integer")]
    [InlineData("""{"result":{"status":"green","config":{}}}""", "`result.config.params` is missing")]
    [InlineData("""{"result":{"status":"green","points_count":-3,"config":{"params":{}}}}""", "points_count` is not an unsigned integer")]
    public async Task A_malformed_collection_info_is_QdrantInvalidResponse(string body, string expected)
    {
        await using var host = await ServeAsync(200, body);
        using var client = new QdrantClient(host.BaseAddress, null, fx.Transport);
        var ex = await ThrowsQdrant("QdrantInvalidResponse", () => client.GetCollectionAsync("c"));
        Assert.Contains(expected, ex.Message);
    }
}
