using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>
/// QdrantSink with a gRPC url upserts through Qdrant.Client's qdrant.Points/Upsert: the same batches, and the
/// collection ends up holding exactly what a REST write leaves (ids, vectors bit for bit, payloads).
/// </summary>
public sealed class QdrantGrpcSinkTests(QdrantStandInFixture fx) : IClassFixture<QdrantStandInFixture>
{
    private static readonly SourceSchema Named = QdrantSinkKit.Schema(SourceKind.Qdrant, IdKinds.Unsigned | IdKinds.Uuid | IdKinds.String, false,
        new VectorField("text", VectorKind.Dense, 4, DistanceMetric.Dot),
        new VectorField("colbert", VectorKind.Multi, 2, DistanceMetric.Dot),
        new VectorField("bm25", VectorKind.Sparse, null));

    private static List<VectorRecord> Records(int n)
    {
        var random = new Random(n);
        var records = new List<VectorRecord>();
        for (var i = 0; i < n; i++)
        {
            PointId id = (i % 3) switch { 0 => PointId.FromUnsigned((ulong)i), 1 => PointId.FromUuid(Guid.NewGuid()), _ => "doc-" + i };
            var payload = i % 4 == 0 ? null : $$"""{"i":{{i}},"f":1.0,"neg":-0,"big":9223372036854775807,"x":0.1,"s":"é\u0000","l":[null,true,{"a":[]}]}""";
            var vectors = new List<(string, VectorValue)>
            {
                ("text", new DenseVector(RandomVector(random, 4))),
                ("colbert", new MultiVector([RandomVector(random, 2), RandomVector(random, 2)])),
            };
            if (i % 2 == 0) vectors.Add(("bm25", new SparseVector([(uint)i, 100_000], [random.NextSingle(), -1f])));
            records.Add(QdrantSinkKit.Record(id, Named, payload, [.. vectors]));
        }
        return records;
    }

    private async Task<List<VectorRecord>> WriteAsync(QdrantClient client, string name, IEnumerable<VectorRecord> records)
    {
        await using (var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions(name) { BatchSize = 7 }))
        {
            foreach (var r in records) await sink.WriteAsync(r);
            await sink.FlushAsync();
            Assert.Equal(6, sink.Summary.BatchesCommitted);
        }
        using var rest = fx.Client();
        return await QdrantSinkKit.ReadBackAsync(rest, name);
    }

    [Fact]
    public async Task Grpc_upserts_leave_what_rest_upserts_leave()
    {
        var records = Records(40);
        using var rest = fx.Client();
        using var grpc = new QdrantClient(fx.Server.BaseAddress, null, fx.Transport) { GrpcUrl = fx.Server.GrpcBaseAddress };
        var before = fx.Server.GrpcUpsertRequests;
        var overRest = await WriteAsync(rest, NewCollectionName(), records);
        var overGrpc = await WriteAsync(grpc, NewCollectionName(), records);
        Assert.Equal(6, fx.Server.GrpcUpsertRequests - before);
        Assert.Equal(40, overGrpc.Count);
        Assert.Equal(overRest.Select(r => r.Id), overGrpc.Select(r => r.Id));
        for (var i = 0; i < overRest.Count; i++)
        {
            var (e, a) = (overRest[i], overGrpc[i]);
            Assert.Equal(e.Vectors.Keys.Order(), a.Vectors.Keys.Order());
            AssertSameFloats(((DenseVector)e.Vectors["text"]).Values, ((DenseVector)a.Vectors["text"]).Values);
            var (em, am) = ((MultiVector)e.Vectors["colbert"], (MultiVector)a.Vectors["colbert"]);
            for (var j = 0; j < em.Vectors.Length; j++) AssertSameFloats(em.Vectors[j], am.Vectors[j]);
            if (e.Vectors.TryGetValue("bm25", out var es))
            {
                Assert.Equal(((SparseVector)es).Indices, ((SparseVector)a.Vectors["bm25"]).Indices);
                AssertSameFloats(((SparseVector)es).Values, ((SparseVector)a.Vectors["bm25"]).Values);
            }
            Assert.True(JsonPayload.DeepEquals(e.Payload!.Utf8Json.Span, a.Payload!.Utf8Json.Span), $"{e.Payload} vs {a.Payload}");
        }
        // A whole float stays a float, and -0 the float -0.0, as serde_json reads them over REST.
        var stored = overGrpc.First(r => r.Payload!.ToString().Contains("\"f\"")).Payload!.ToString();
        Assert.Contains("\"f\":1.0,", stored);
        Assert.Contains("\"neg\":-0.0,", stored);
        Assert.Contains("\"big\":9223372036854775807,", stored);
    }

    [Fact]
    public async Task A_payload_integer_beyond_int64_fails_its_batch_naming_the_point_and_sends_nothing()
    {
        var name = NewCollectionName();
        using var grpc = new QdrantClient(fx.Server.BaseAddress, null, fx.Transport) { GrpcUrl = fx.Server.GrpcBaseAddress };
        await using var sink = QdrantSinkKit.Sink(grpc, new QdrantSinkOptions(name) { BatchSize = 10 });
        var before = fx.Server.GrpcUpsertRequests;
        await sink.WriteAsync(QdrantSinkKit.Record(1UL, Named, """{"n":1}""", ("text", new DenseVector([1, 2, 3, 4]))));
        await sink.WriteAsync(QdrantSinkKit.Record(2UL, Named, """{"n":18446744073709551615}""", ("text", new DenseVector([1, 2, 3, 4]))));
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => sink.FlushAsync());
        Assert.Equal("QdrantBatchFailed", ex.ErrorId);
        var inner = Assert.IsType<VecMigrateException>(ex.InnerException);
        Assert.Equal("QdrantPayloadNumberUnsupported", inner.ErrorId);
        Assert.Contains("point 2: payload field 'n'", inner.Message);
        Assert.Equal(before, fx.Server.GrpcUpsertRequests);
    }

    [Fact]
    public async Task A_missing_collection_over_grpc_is_collection_not_found()
    {
        using var grpc = new QdrantClient(fx.Server.BaseAddress, null, fx.Transport) { GrpcUrl = fx.Server.GrpcBaseAddress };
        var ex = await ThrowsQdrant("QdrantCollectionNotFound", () => grpc.UpsertAsync("nope_" + NewCollectionName(),
            [QdrantSinkKit.Record(1UL, null, null, ("", new DenseVector([1f])))]));
        Assert.Contains("qdrant.Points/Upsert", ex.Target);
    }
}
