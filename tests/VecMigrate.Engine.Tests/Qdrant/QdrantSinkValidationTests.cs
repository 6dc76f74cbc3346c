using VecMigrate.Testing;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>Records Qdrant could not take are refused before anything of them is sent, and the sink goes on.</summary>
public sealed class QdrantSinkValidationTests(QdrantStandInFixture fx) : IClassFixture<QdrantStandInFixture>
{
    private static VectorRecord Make(PointId id, string? payload, params (string Name, VectorValue Value)[] vectors) =>
        QdrantSinkKit.Record(id, null, payload, vectors);

    private static readonly Dictionary<string, Func<VectorRecord>> Bad = new()
    {
        ["nan"] = () => Make(10UL, null, ("dense", new DenseVector([1, float.NaN, 3]))),
        ["infinity"] = () => Make(11UL, null, ("dense", new DenseVector([1, 2, float.PositiveInfinity]))),
        ["sparse-infinity"] = () => Make(12UL, null, ("sp", new SparseVector([1], [float.NegativeInfinity]))),
        ["multi-nan"] = () => Make(13UL, null, ("multi", new MultiVector([[1, 2], [float.NaN, 0]]))),
        ["dimension"] = () => Make(14UL, null, ("dense", new DenseVector([1, 2]))),
        ["multi-dimension"] = () => Make(15UL, null, ("multi", new MultiVector([[1, 2], [1, 2, 3]]))),
        ["multi-empty"] = () => Make(16UL, null, ("multi", new MultiVector([]))),
        ["unknown-name"] = () => Make(17UL, null, ("other", new DenseVector([1, 2, 3]))),
        ["kind"] = () => Make(18UL, null, ("sp", new DenseVector([1, 2, 3]))),
        ["sparse-duplicate"] = () => Make(19UL, null, ("sp", new SparseVector([4, 2, 4], [1, 2, 3]))),
        ["payload-array"] = () => Make(20UL, "[1,2]", ("dense", new DenseVector([1, 2, 3]))),
        ["payload-string"] = () => Make(21UL, "\"text\"", ("dense", new DenseVector([1, 2, 3]))),
        ["payload-invalid"] = () => Make(22UL, "{\"a\":", ("dense", new DenseVector([1, 2, 3]))),
        ["payload-two-values"] = () => Make(23UL, "{} {}", ("dense", new DenseVector([1, 2, 3]))),
        ["original-id-conflict"] = () => Make("s-1", """{"original_id":"someone else's"}""", ("dense", new DenseVector([1, 2, 3]))),
        ["lone-surrogate"] = () => Make("bad\ud800id", null, ("dense", new DenseVector([1, 2, 3]))),
        ["namespace-conflict"] = () => new VectorRecord("s-2", new Dictionary<string, VectorValue> { ["dense"] = new DenseVector([1, 2, 3]) },
            JsonPayload.FromString("""{"namespace":42}""")) { Namespace = "prod" },
    };

    [Theory]
    [InlineData("nan", "QdrantVectorNotFinite", "NaN at position 1")]
    [InlineData("infinity", "QdrantVectorNotFinite", "at position 2")]
    [InlineData("sparse-infinity", "QdrantVectorNotFinite", "vector 'sp'")]
    [InlineData("multi-nan", "QdrantVectorNotFinite", "row 1 of vector 'multi'")]
    [InlineData("dimension", "QdrantVectorDimensionMismatch", "2 dimensions, the collection 3")]
    [InlineData("multi-dimension", "QdrantVectorDimensionMismatch", "row 1 of vector 'multi' has 3 dimensions")]
    [InlineData("multi-empty", "QdrantMultiVectorEmpty", "without rows")]
    [InlineData("unknown-name", "QdrantVectorNameUnknown", "no vector 'other'")]
    [InlineData("kind", "QdrantVectorKindMismatch", "vector 'sp' is a dense vector, but the collection holds a sparse vector there")]
    [InlineData("sparse-duplicate", "QdrantSparseIndexDuplicate", "index 4 twice")]
    [InlineData("payload-array", "QdrantPayloadNotObject", "a JSON array")]
    [InlineData("payload-string", "QdrantPayloadNotObject", "a JSON string")]
    [InlineData("payload-invalid", "QdrantPayloadInvalid", "not valid JSON")]
    [InlineData("payload-two-values", "QdrantPayloadInvalid", "not valid JSON")]
    [InlineData("original-id-conflict", "QdrantPayloadFieldConflict", "'original_id' (\"someone else's\")")]
    [InlineData("lone-surrogate", "QdrantRecordInvalid", "\\uD800")]
    [InlineData("namespace-conflict", "QdrantPayloadFieldConflict", "'namespace' (42)")]
    public async Task A_record_qdrant_could_not_take_is_rejected_and_the_sink_goes_on(string which, string errorId, string detail)
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, [new QdrantStandInVector("dense", 3, "Dot"), new QdrantStandInVector("multi", 2, "Dot", Multivector: true)],
            [new QdrantStandInSparse("sp")]);
        using var client = fx.Client();
        await using var sink = QdrantSinkKit.Sink(client, name);
        await sink.WriteAsync(Make(1UL, null, ("dense", new DenseVector([1, 2, 3]))));

        var bad = Bad[which]();
        var ex = await Assert.ThrowsAsync<RecordRejectedException>(() => sink.WriteAsync(bad).AsTask());
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Equal(FailureKind.InvalidRecord, ex.Kind);
        Assert.Same(bad, ex.Record);
        Assert.Contains(detail, ex.Message);
        Assert.Contains($"Record {bad}", ex.Message);
        Assert.Contains("skipped", ex.Message);

        await sink.WriteAsync(Make(2UL, """{"ok":true}""", ("dense", new DenseVector([4, 5, 6])), ("sp", new SparseVector([9, 1], [1, 2]))));
        await sink.FlushAsync();
        Assert.Equal([1UL, 2UL], fx.Server.Points(name).Select(p => p.Id.AsUnsigned));
        Assert.Equal(new QdrantWriteSummary(name, 2, 1, 1, sink.Summary.Elapsed), sink.Summary);
    }

    [Fact]
    public async Task Write_all_hands_rejections_to_the_callback_and_writes_the_rest()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 2, "Euclid"));
        using var client = fx.Client();
        await using var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions(name) { BatchSize = 4 });
        var rejected = new List<RecordRejectedException>();
        var summary = await sink.WriteThroughRunnerAsync(Enumerable.Range(0, 20).Select(i => Dense((ulong)i, i % 5 == 0 ? [i, float.NaN] : [i, 1])).Async(), rejected.Add);
        Assert.Equal(16, summary.RecordsWritten);
        Assert.Equal(4, summary.RecordsRejected);
        Assert.Equal([0UL, 5, 10, 15], rejected.Select(r => r.Record.Id.AsUnsigned));
        Assert.Equal(16, fx.Server.Count(name));
    }

    [Theory]
    [InlineData(0, 1000, "batch size")]
    [InlineData(10, 100, "request size")]
    public void Options_that_cannot_work_are_refused(int batchSize, int maxBytes, string what)
    {
        using var client = fx.Client();
        var ex = Assert.Throws<VecMigrateException>(() => new QdrantSink(client, new QdrantSinkOptions("c") { BatchSize = batchSize, MaxRequestBytes = maxBytes }));
        Assert.Equal("QdrantSinkOptionsInvalid", ex.ErrorId);
        Assert.Contains(what, ex.Message);
        Assert.Throws<VecMigrateException>(() => new QdrantSink(client, new QdrantSinkOptions("c") { OriginalIdField = "x", NamespaceField = "x" }));
    }
}

internal static class AsyncEnumerableKit
{
    public static async IAsyncEnumerable<T> Async<T>(this IEnumerable<T> items)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            yield return item;
        }
    }
}
