using System.Net;
using System.Text;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>
/// Qdrant compresses any REST answer whose request accepts it (actix's Compress middleware); the client does not ask,
/// because a scroll page is megabytes of decimal floats that cost far more CPU to deflate and inflate than to carry.
/// </summary>
public sealed class QdrantCompressionTests
{
    [Theory]
    [InlineData("gzip, deflate", "gzip")]
    [InlineData("gzip;q=0.5, br", "br")]
    [InlineData("deflate, gzip;q=0.9", "deflate")]
    [InlineData("identity", null)]
    [InlineData("gzip;q=0", null)]
    [InlineData("", null)]
    public void The_stand_in_picks_the_encoding_as_actix_does(string acceptEncoding, string? expected) =>
        Assert.Equal(expected, QdrantStandIn.ChooseEncoding(acceptEncoding));

    [Fact]
    public async Task Scrolls_are_read_uncompressed_though_the_stand_in_compresses_for_clients_that_ask()
    {
        await using var server = await QdrantStandIn.StartAsync();
        server.CreateCollection("c", new QdrantStandInVector("", 64));
        var random = new Random(5);
        var records = Enumerable.Range(1, 600).Select(i => Dense((ulong)i, RandomVector(random, 64), $$"""{"n":{{i}}}""")).ToList();
        server.Seed("c", records);

        // A client that asks gets gzip, which the stand-in really sends.
        using (var asking = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate }))
        {
            using var body = new StringContent("""{"limit":5,"with_vector":true}""", Encoding.UTF8, "application/json");
            using var answer = await asking.PostAsync(new Uri(server.BaseAddress, "collections/c/points/scroll"), body);
            Assert.Contains("\"points\"", await answer.Content.ReadAsStringAsync());
        }
        Assert.Equal(1, server.CompressedAnswers);

        // The engine's client, on a transport that compresses for other services, reads every page plainly.
        using var transport = new RestTransport();
        using var client = new QdrantClient(server.BaseAddress, null, transport);
        var read = new List<VectorRecord>();
        await foreach (var r in new QdrantSource(client).ReadAsync(new QdrantReadOptions("c") { PageSize = 100 })) read.Add(r);
        Assert.Equal(600, read.Count);
        Assert.Equal(1, server.CompressedAnswers);
        Assert.True(server.ScrollRequests >= 6);
    }
}
