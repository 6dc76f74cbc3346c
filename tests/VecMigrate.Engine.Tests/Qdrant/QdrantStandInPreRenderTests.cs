using System.Text;
using System.Text.RegularExpressions;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>The stand-in's pre-rendered mode (for benchmarks) answers byte for byte as the ordinary one does.</summary>
public sealed partial class QdrantStandInPreRenderTests
{
    private static readonly HttpClient Http = new();

    [GeneratedRegex("\"time\":[0-9.eE+-]+")]
    private static partial Regex Time();

    private static async Task<string> ScrollAsync(QdrantStandIn server, string collection, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(new Uri(server.BaseAddress, $"collections/{collection}/points/scroll"), content);
        return Time().Replace(await response.Content.ReadAsStringAsync(), "\"time\":0");
    }

    [Fact]
    public async Task Pre_rendered_answers_are_the_same_bytes_for_every_selection()
    {
        var rng = new Random(11);
        var shared = new DenseVector(RandomVector(rng, 16)); // records may share one vector object
        var records = Enumerable.Range(0, 300).Select(i =>
        {
            var v = new Dictionary<string, VectorValue> { ["text"] = i % 10 == 0 ? shared : new DenseVector(RandomVector(rng, 16)) };
            if (i % 2 == 0) v["multi"] = new MultiVector([RandomVector(rng, 4), RandomVector(rng, 4)]);
            if (i % 3 == 0) v["sp"] = new SparseVector([9, 2, 5], [0.5f, -1e-30f, float.Epsilon]); // unsorted: the stand-in sorts it
            return new VectorRecord((ulong)i, v, i % 4 == 0 ? null : JsonPayload.FromString($$"""{"i":{{i}},"city":"{{(i % 2 == 0 ? "Oslo" : "Bergen")}}"}"""));
        }).ToList();
        await using var plain = await QdrantStandIn.StartAsync();
        await using var rendered = await QdrantStandIn.StartAsync();
        rendered.PreRender = true;
        foreach (var server in new[] { plain, rendered })
        {
            server.CreateCollection("c", [new QdrantStandInVector("text", 16), new QdrantStandInVector("multi", 4, Multivector: true)], [new QdrantStandInSparse("sp")]);
            server.Seed("c", records);
        }
        string[] bodies =
        [
            """{"limit":1000,"with_payload":true,"with_vector":true}""",
            """{"limit":7,"offset":100,"with_vector":["sp","text"]}""",
            """{"limit":50,"with_payload":["city"],"with_vector":true,"filter":{"must":[{"key":"city","match":{"value":"Oslo"}}]}}""",
            """{"limit":50,"with_payload":false,"with_vector":false}""",
        ];
        foreach (var body in bodies)
        {
            var expected = await ScrollAsync(plain, "c", body);
            Assert.Contains("\"points\":[{", expected);
            Assert.Equal(expected, await ScrollAsync(rendered, "c", body));
        }
    }

    [Fact]
    public async Task Pre_rendered_unnamed_vectors_are_the_same_bytes()
    {
        var rng = new Random(12);
        var values = new List<float> { -0f, float.Epsilon, float.MaxValue, 1e-7f, 16777217f };
        while (values.Count < 1024) values.Add((float)(rng.NextDouble() * 2 - 1));
        var records = Enumerable.Range(1, 20).Select(i => Dense((ulong)i, i == 1 ? values.ToArray() : RandomVector(rng, 1024), "{\"n\":1}")).ToList();
        await using var plain = await QdrantStandIn.StartAsync();
        await using var rendered = await QdrantStandIn.StartAsync();
        rendered.PreRender = true;
        foreach (var server in new[] { plain, rendered })
        {
            server.CreateCollection("c", new QdrantStandInVector("", 1024));
            server.Seed("c", records);
        }
        const string body = """{"limit":10,"offset":3,"with_payload":true,"with_vector":true}""";
        Assert.Equal(await ScrollAsync(plain, "c", body), await ScrollAsync(rendered, "c", body));
    }
}
