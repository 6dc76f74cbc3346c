using System.Text.Json.Nodes;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Pinecone;
using VecMigrate.Engine.Tests.Qdrant;
using VecMigrate.Testing;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.EndToEnd;

/// <summary>
/// A Pinecone index (stand-in) read with <see cref="Engine.Pinecone.PineconeSource"/> and written with
/// <see cref="QdrantSink"/>: every namespace arrives, string ids as UUIDv5 with the id and namespace in the payload.
/// Both stand-ins check every exchange against their vendor's document (when the documents are there).
/// </summary>
public sealed class PineconeToQdrantRoundTripTests(CheckedQdrantStandInFixture fx) : IClassFixture<CheckedQdrantStandInFixture>
{
    private readonly long _checkedBefore = fx.BeginTest();

    private sealed record Seeded(string Namespace, string Id, float[] Values, uint[]? Indices, float[]? SparseValues, string? Metadata);

    /// <summary>What Qdrant should hold for a Pinecone record.</summary>
    private static VectorRecord Expected(Seeded s)
    {
        var vectors = new Dictionary<string, VectorValue> { [""] = new DenseVector(s.Values) };
        if (s.Indices is not null) vectors["sparse"] = new SparseVector(s.Indices, s.SparseValues!);
        var payload = s.Metadata is null ? new JsonObject() : JsonNode.Parse(s.Metadata)!.AsObject();
        payload["original_id"] = s.Id;
        payload["namespace"] = s.Namespace;
        return new VectorRecord(QdrantPointIds.ToQdrant(s.Id, s.Namespace), vectors, JsonPayload.FromString(payload.ToJsonString()));
    }

    [Fact]
    public async Task A_hybrid_index_with_several_namespaces_arrives_as_uuid5_points_with_ids_and_namespaces_in_the_payload()
    {
        await using var kit = await PineconeTestKit.StartAsync(checkContracts: true);
        var index = await kit.StandIn.CreateIndexAsync("hybrid", 8, "dotproduct");
        var rng = new Random(8);
        var seeded = new List<Seeded>();
        foreach (var ns in new[] { "", "alpha", "beta" })
        {
            var ids = Enumerable.Range(0, ns.Length == 0 ? 120 : 75).Select(i => $"{ns}-doc-{i}").Append("same").Append("ünï #1/x?y=z");
            var n = 0;
            foreach (var id in ids)
            {
                var hasSparse = n % 3 != 0;
                var s = new Seeded(ns, id, RandomVector(rng, 8),
                    hasSparse ? [(uint)n, (uint)n + 500, 4_000_000_000] : null,
                    hasSparse ? [0.5f, (float)rng.NextDouble(), -2.25f] : null,
                    n % 4 == 0 ? null : $$"""{"genre":"drama","year":{{2000 + n}},"score":{{n * 0.125}},"tags":["a","b"],"draft":{{(n % 2 == 0 ? "true" : "false")}}}""");
                index.Seed(ns, s.Id, s.Values, s.Indices, s.SparseValues, s.Metadata);
                seeded.Add(s);
                n++;
            }
        }

        var name = NewCollectionName();
        using var client = fx.Client();
        var committed = new List<QdrantBatchCommitted>();
        await using (var sink = new QdrantSink(client, new QdrantSinkOptions(name) { BatchSize = 50 }) { BatchCommitted = committed.Add })
        {
            var summary = await sink.WriteThroughRunnerAsync(kit.Source("hybrid").ReadAsync(new Engine.Pinecone.PineconeReadOptions { PageSize = 33 }));
            Assert.Equal(seeded.Count, summary.RecordsWritten);
        }

        var back = await QdrantSinkKit.ReadBackAsync(client, name);
        RecordAssert.SameSet(seeded.Select(Expected), back, sparseZerosDropped: false);
        Assert.Equal(3, back.Count(r => QdrantSinkKit.PayloadOf(r).GetProperty("original_id").GetString() == "same"));
        Assert.All(committed, c => Assert.NotNull(c.LastPosition)); // where a resumed read would start
        Assert.Equal(seeded.Count, committed.Sum(c => c.Records));

        var info = await client.GetCollectionAsync(name);
        Assert.True(info.HasUnnamedVector);
        Assert.Equal(8, info.Vectors[0].Size);
        Assert.Equal("Dot", info.Vectors[0].DistanceName);
        Assert.Equal("sparse", Assert.Single(info.SparseVectors).Name);
        kit.AssertConforms(2 + 3 * 2); // describe, stats, a list and a fetch at least in each namespace
        fx.AssertConforms(_checkedBefore, 3 + 6); // describe, create, describe, 6 upserts of 50
    }

    [Fact]
    public async Task A_cosine_index_arrives_normalized_as_qdrant_stores_cosine_vectors()
    {
        await using var kit = await PineconeTestKit.StartAsync(checkContracts: true);
        var index = await kit.StandIn.CreateIndexAsync("cos", 24, "cosine");
        var rng = new Random(24);
        var seeded = Enumerable.Range(0, 60).Select(i => new Seeded(i % 2 == 0 ? "" : "other", $"v{i}", RandomVector(rng, 24), null, null, null)).ToList();
        foreach (var s in seeded) index.Seed(s.Namespace, s.Id, s.Values);

        var name = NewCollectionName();
        using var client = fx.Client();
        await using (var sink = new QdrantSink(client, new QdrantSinkOptions(name)))
        {
            await sink.WriteThroughRunnerAsync(kit.Source("cos").ReadAsync());
        }
        var back = await QdrantSinkKit.ReadBackAsync(client, name);
        RecordAssert.SameSet(seeded.Select(Expected), back, normalized: NormalizedVectors.Of(""));
        var info = await client.GetCollectionAsync(name);
        Assert.Equal(DistanceMetric.Cosine, Assert.Single(info.Vectors).Distance);
        Assert.Empty(info.SparseVectors);
        kit.AssertConforms(2 + 2 * 2);
        fx.AssertConforms(_checkedBefore, 3 + 1);
    }
}
