using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>
/// With a gRPC url, collections are listed, described and created through qdrant.Collections (the official client's
/// stubs; the stand-in answers with the messages generated from Qdrant's collections.proto): what gRPC describes is what
/// REST describes, and a collection created over gRPC is the one REST would have created.
/// </summary>
public sealed class QdrantGrpcCollectionsTests(QdrantStandInFixture fx) : IClassFixture<QdrantStandInFixture>
{
    private QdrantClient Grpc() => new(fx.Server.BaseAddress, null, fx.Transport) { GrpcUrl = fx.Server.GrpcBaseAddress };

    /// <summary>Everything said of a collection, spaces by name (Qdrant keeps them in a map: a gRPC map has no order).</summary>
    private static string Describe(QdrantCollectionInfo i) =>
        $"{i.Name} {i.Status} points={i.PointsCount} unnamed={i.HasUnnamedVector} " +
        string.Join(" ", i.Vectors.OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => $"[{v.Name}:{v.Size} {v.Distance}/{v.DistanceName} {v.Datatype ?? "-"} {v.MultivectorComparator ?? "-"}]")) + " " +
        string.Join(" ", i.SparseVectors.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => $"<{s.Name} {s.Modifier ?? "-"} {s.Datatype ?? "-"}>"));

    public static TheoryData<string> Shapes => new() { "unnamed", "named", "sparse-only", "datatypes" };

    private static (QdrantVectorParams[] Dense, QdrantSparseVectorParams[] Sparse) Shape(string shape) => shape switch
    {
        "unnamed" => ([new("", 8, DistanceMetric.Cosine, "Cosine", null, null)], []),
        "named" => ([new("text", 4, DistanceMetric.Dot, "Dot", null, null), new("colbert", 2, DistanceMetric.Euclid, "Euclid", null, "max_sim"),
            new("l1", 3, DistanceMetric.Manhattan, "Manhattan", null, null)], [new("bm25", "idf", null), new("plain", "none", null)]),
        "sparse-only" => ([], [new("splade", null, null)]),
        _ => ([new("half", 16, DistanceMetric.Cosine, "Cosine", "float16", null), new("bytes", 16, DistanceMetric.Dot, "Dot", "uint8", null)], []),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task A_collection_created_over_gRPC_is_described_alike_over_gRPC_and_REST(string shape)
    {
        var (dense, sparse) = Shape(shape);
        using var grpc = Grpc();
        using var rest = fx.Client();
        var name = NewCollectionName();
        var calls = fx.Server.GrpcCollectionRequests;

        await grpc.CreateCollectionAsync(name, dense, sparse);
        var overGrpc = await grpc.GetCollectionAsync(name);
        var overRest = await rest.GetCollectionAsync(name);

        Assert.Equal(2, fx.Server.GrpcCollectionRequests - calls); // Create and Get went over gRPC
        Assert.Equal(Describe(overRest), Describe(overGrpc));
        Assert.Equal(dense.Select(v => v.Name).Order(StringComparer.Ordinal), overGrpc.Vectors.Select(v => v.Name));
        Assert.Equal(dense.Length == 1 && dense[0].Name.Length == 0, overGrpc.HasUnnamedVector);
        Assert.Equal(sparse.Select(s => (s.Name, s.Modifier)).OrderBy(s => s.Name, StringComparer.Ordinal), overGrpc.SparseVectors.Select(s => (s.Name, s.Modifier)));
        // The same collection created over REST is described the same way.
        var twin = NewCollectionName();
        await rest.CreateCollectionAsync(twin, dense, sparse);
        Assert.Equal(Describe(await rest.GetCollectionAsync(twin)).Replace(twin, name, StringComparison.Ordinal), Describe(overGrpc));
    }

    [Fact]
    public async Task Counts_lists_and_refusals_over_gRPC_match_REST()
    {
        using var grpc = Grpc();
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 2));
        fx.Server.Seed(name, Enumerable.Range(0, 25).Select(i => Dense((ulong)i, [i, 1])));

        Assert.Equal(25UL, (await grpc.GetCollectionAsync(name)).PointsCount);
        Assert.Contains(name, await grpc.ListCollectionsAsync());

        var missing = await Assert.ThrowsAsync<VecMigrateException>(() => grpc.GetCollectionAsync("nope_" + name));
        Assert.Equal(("QdrantCollectionNotFound", FailureKind.NotFound), (missing.ErrorId, missing.Kind));
        Assert.Contains("qdrant.Collections/Get", missing.Target, StringComparison.Ordinal);

        var taken = await Assert.ThrowsAsync<VecMigrateException>(() => grpc.CreateCollectionAsync(name, [new("", 2, DistanceMetric.Cosine, "Cosine", null, null)]));
        Assert.Equal("QdrantBadRequest", taken.ErrorId);
        Assert.Contains("already exists", taken.Message, StringComparison.Ordinal);

        // Refused before anything is sent, as over REST.
        var calls = fx.Server.GrpcCollectionRequests;
        await Assert.ThrowsAsync<ArgumentException>(() => grpc.CreateCollectionAsync(NewCollectionName(),
            [new("", 2, DistanceMetric.Cosine, "Cosine", null, null), new("x", 2, DistanceMetric.Cosine, "Cosine", null, null)]));
        await Assert.ThrowsAsync<ArgumentException>(() => grpc.CreateCollectionAsync(NewCollectionName(), [new("v", 2, DistanceMetric.Cosine, "Cosine", "float64", null)]));
        Assert.Equal(calls, fx.Server.GrpcCollectionRequests);
    }
}
