using System.Net;
using System.Text;
using System.Text.Json;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>The stand-in's own promises: the write endpoints later round trips rely on, and Qdrant's answers.</summary>
public sealed class QdrantStandInTests(QdrantStandInFixture fx) : IClassFixture<QdrantStandInFixture>
{
    private static readonly HttpClient Http = new();

    private async Task<(HttpStatusCode Status, JsonDocument? Body, string Text)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(fx.Server.BaseAddress, path));
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonDocument? doc = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/json" && text.Length > 0) doc = JsonDocument.Parse(text);
        return (response.StatusCode, doc, text);
    }

    [Fact]
    public async Task Created_collection_and_upserted_points_come_back_through_the_client()
    {
        var name = NewCollectionName();
        var created = await SendAsync(HttpMethod.Put, $"collections/{name}",
            """{"vectors":{"dense":{"size":3,"distance":"Dot"},"multi":{"size":2,"distance":"Cosine","multivector_config":{"comparator":"max_sim"}}},"sparse_vectors":{"sp":{"modifier":"idf"}}}""");
        Assert.Equal(HttpStatusCode.OK, created.Status);
        Assert.True(created.Body!.RootElement.GetProperty("result").GetBoolean());
        Assert.Equal("ok", created.Body.RootElement.GetProperty("status").GetString());

        var upserted = await SendAsync(HttpMethod.Put, $"collections/{name}/points?wait=true", """
            {"points":[
              {"id":"550e8400-e29b-41d4-a716-446655440000","vector":{"dense":[0.1,0.2,0.3],"sp":{"indices":[9,2],"values":[0.9,0.2]}},"payload":{"a":[1,{"b":null}]}},
              {"id":18446744073709551615,"vector":{"multi":[[1,2],[3,4]]}}
            ]}
            """);
        Assert.Equal(HttpStatusCode.OK, upserted.Status);
        Assert.Equal("completed", upserted.Body!.RootElement.GetProperty("result").GetProperty("status").GetString());

        using var client = fx.Client();
        var info = await client.GetCollectionAsync(name);
        Assert.Equal(2UL, info.PointsCount);
        Assert.Equal("idf", Assert.Single(info.SparseVectors).Modifier);
        var points = (await client.ScrollAsync(name, new QdrantScrollRequest())).Points;
        Assert.Equal(PointId.FromUnsigned(ulong.MaxValue), points[0].Id);
        Assert.Equal(["multi"], points[0].Vectors.Keys);
        Assert.Equal("{}", points[0].Payload!.ToString());
        var sp = Assert.IsType<SparseVector>(points[1].Vectors["sp"]);
        Assert.Equal([2u, 9u], sp.Indices); // Qdrant sorts sparse vectors by index
        AssertSameFloats([0.2f, 0.9f], sp.Values);
        AssertSameFloats([0.1f, 0.2f, 0.3f], Assert.IsType<DenseVector>(points[1].Vectors["dense"]).Values);
        Assert.Equal("""{"a":[1,{"b":null}]}""", points[1].Payload!.ToString());
    }

    [Fact]
    public async Task Batch_upsert_stores_every_point()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 2, "Dot")); // (a Cosine space would store [3,3] normalized)
        var answer = await SendAsync(HttpMethod.Put, $"collections/{name}/points",
            """{"batch":{"ids":[1,2,3],"vectors":[[1,1],[2,2],[3,3]],"payloads":[{"n":1},null,{"n":3}]}}""");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("acknowledged", answer.Body!.RootElement.GetProperty("result").GetProperty("status").GetString());
        var stored = fx.Server.Points(name);
        Assert.Equal(3, stored.Count);
        Assert.Null(stored[1].Payload);
        AssertSameFloats([3f, 3f], stored[2].Embedding!);
    }

    [Fact]
    public async Task Upsert_of_a_wrong_dimension_is_refused_with_Qdrants_wording()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 4));
        var answer = await SendAsync(HttpMethod.Put, $"collections/{name}/points", """{"points":[{"id":1,"vector":[1,2,3]}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("Wrong input: Vector dimension error: expected dim: 4, got 3",
            answer.Body!.RootElement.GetProperty("status").GetProperty("error").GetString());
        Assert.Equal(0, fx.Server.Count(name));
    }

    [Fact]
    public async Task Creating_a_collection_twice_is_a_conflict()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 4));
        var answer = await SendAsync(HttpMethod.Put, $"collections/{name}", """{"vectors":{"size":4,"distance":"Cosine"}}""");
        Assert.Equal(HttpStatusCode.Conflict, answer.Status);
        Assert.Contains("already exists", answer.Body!.RootElement.GetProperty("status").GetProperty("error").GetString());
    }

    [Fact]
    public async Task Errors_use_Qdrants_envelope_and_a_missing_collection_is_404()
    {
        var answer = await SendAsync(HttpMethod.Post, "collections/nope/points/scroll", "{}");
        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        var root = answer.Body!.RootElement;
        Assert.Equal("Not found: Collection `nope` doesn't exist!", root.GetProperty("status").GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("time").ValueKind);
    }

    [Fact]
    public async Task Scroll_limit_zero_is_a_validation_error()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        var answer = await SendAsync(HttpMethod.Post, $"collections/{name}/points/scroll", """{"limit":0}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, answer.Status);
    }

    [Fact]
    public async Task Scroll_defaults_to_ten_points_with_payload_and_without_vectors()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        fx.Server.Seed(name, Enumerable.Range(0, 12).Select(i => Dense((ulong)i, [1f], "{}")));
        var answer = await SendAsync(HttpMethod.Post, $"collections/{name}/points/scroll", "{}");
        var result = answer.Body!.RootElement.GetProperty("result");
        Assert.Equal(10, result.GetProperty("points").GetArrayLength());
        Assert.Equal(10, result.GetProperty("next_page_offset").GetInt32());
        var point = result.GetProperty("points")[0];
        Assert.True(point.TryGetProperty("payload", out _));
        Assert.False(point.TryGetProperty("vector", out _));
    }

    [Fact]
    public async Task An_oversized_request_is_refused_as_Qdrant_does_beyond_32_MB()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 1));
        var big = "{\"points\":[{\"id\":1,\"vector\":[1],\"payload\":{\"x\":\"" + new string('a', 33 * 1024 * 1024) + "\"}}]}";
        var answer = await SendAsync(HttpMethod.Put, $"collections/{name}/points", big);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("larger than allowed", answer.Text);
    }

    [Fact]
    public async Task A_wrong_key_gets_401_in_plain_text_as_Qdrant_answers()
    {
        await using var server = await QdrantStandIn.StartAsync(apiKey: "k");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "collections"));
        request.Headers.Add("api-key", "wrong");
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Invalid API key or JWT", await response.Content.ReadAsStringAsync());
        using var bearer = new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "collections"));
        bearer.Headers.Authorization = new("Bearer", "k");
        using var ok = await Http.SendAsync(bearer);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}
