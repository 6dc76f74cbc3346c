using VecMigrate.Engine.Records;

namespace VecMigrate.Testing.StandIns;

/// <summary>
/// What the module's end-to-end tests (xunit's ModuleServices and the Pester suite's stand-in host) seed the
/// stand-ins with: the Qdrant collection "docs" and the Pinecone index "movies".
/// </summary>
public static class ModuleTestData
{
    /// <summary>The Qdrant stand-in's API key in the module tests.</summary>
    public const string QdrantKey = "qd-e2e-key-7f3a9c";

    public const int DocsDimension = 8;

    /// <summary>
    /// Creates "docs" (unnamed Cosine vectors of <see cref="DocsDimension"/>) and seeds 1,000 points with integer ids
    /// 1..1000 and a payload with title, year and city (every fourth in Oslo); returns them as seeded.
    /// </summary>
    public static IReadOnlyList<VectorRecord> SeedDocs(QdrantStandIn qdrant)
    {
        qdrant.CreateCollection("docs", new QdrantStandInVector("", DocsDimension, "Cosine"));
        var rng = new Random(7);
        var docs = Enumerable.Range(1, 1000).Select(i => new VectorRecord((ulong)i,
            new Dictionary<string, VectorValue> { [""] = new DenseVector(Enumerable.Range(0, DocsDimension).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()) },
            JsonPayload.FromString($$"""{"title":"doc {{i}}","year":{{2000 + i % 25}},"city":"{{(i % 4 == 0 ? "Oslo" : "Bergen")}}"}"""))).ToList();
        qdrant.Seed("docs", docs);
        return docs;
    }

    /// <summary>
    /// Creates the index "movies" (dimension 4, cosine) and seeds 75 records m000..m074: 30 in the default
    /// namespace, 45 in "alpha", metadata genre and n; returns them as seeded.
    /// </summary>
    public static async Task<IReadOnlyList<VectorRecord>> SeedMoviesAsync(PineconeStandIn pinecone)
    {
        var movies = await pinecone.CreateIndexAsync("movies", 4).ConfigureAwait(false);
        var list = new List<VectorRecord>();
        for (var i = 0; i < 75; i++)
        {
            var ns = i < 30 ? "" : "alpha";
            var values = new[] { i + 0.5f, 1f / (i + 1), -i, 3.25f };
            var metadata = $$"""{"genre":"g{{i % 3}}","n":{{i}}}""";
            movies.Seed(ns, $"m{i:D3}", values, metadataJson: metadata);
            list.Add(new VectorRecord($"m{i:D3}", new Dictionary<string, VectorValue> { [""] = new DenseVector(values) }, JsonPayload.FromString(metadata)) { Namespace = ns });
        }
        return list;
    }

    /// <summary>The Milvus stand-in's token in the module tests: Milvus's own default root user and password.</summary>
    public const string MilvusToken = "root:Milvus";

    /// <summary>
    /// Creates the Milvus collection "docs" (Int64 primary key "id", FloatVector "vector" of <see cref="DocsDimension"/>
    /// with a COSINE index, VarChar "title" and "tenant", the dynamic field on), loaded, and stores 300 entities with ids
    /// 1..300, every third in tenant "acme" and the others in "globex", "year" in the dynamic field.
    /// </summary>
    public static void SeedMilvusDocs(MilvusStandIn milvus)
    {
        milvus.AddCollection("docs", [
            new MilvusStandInField("id", "Int64", IsPrimary: true, Nullable: false, PartitionKey: false, Dim: null, MaxLength: null, ElementType: null, MaxCapacity: null),
            new MilvusStandInField("vector", "FloatVector", false, false, false, DocsDimension, null, null, null),
            new MilvusStandInField("title", "VarChar", false, true, false, null, 256, null, null),
            new MilvusStandInField("tenant", "VarChar", false, true, false, null, 64, null, null),
        ]);
        var rng = new Random(11);
        milvus.AddRows("docs", Enumerable.Range(1, 300).Select(i => new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = i,
            ["vector"] = new System.Text.Json.Nodes.JsonArray(Enumerable.Range(0, DocsDimension).Select(_ => (System.Text.Json.Nodes.JsonNode)(float)(rng.NextDouble() * 2 - 1)).ToArray()),
            ["title"] = $"doc {i}",
            ["tenant"] = i % 3 == 0 ? "acme" : "globex",
            ["year"] = 2000 + i % 25,
        }));
    }
}
