using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Qdrant;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.EndToEnd;

/// <summary>
/// A collection copied into a new one with <see cref="QdrantSource"/> and <see cref="QdrantSink"/>: ids, vectors and payloads
/// arrive unchanged. The stand-in checks every exchange against Qdrant's document (when the vendor documents are there).
/// </summary>
public sealed class QdrantToQdrantRoundTripTests(CheckedQdrantStandInFixture fx) : IClassFixture<CheckedQdrantStandInFixture>
{
    private readonly long _checkedBefore = fx.BeginTest();

    private async Task<(List<VectorRecord> Back, QdrantWriteSummary Summary, QdrantSink Sink)> CopyAsync(string from, string to, QdrantSinkOptions? options = null)
    {
        using var client = fx.Client();
        var sink = new QdrantSink(client, options ?? new QdrantSinkOptions(to) { BatchSize = 100 });
        var summary = await sink.WriteThroughRunnerAsync(new QdrantSource(client).ReadAsync(new QdrantReadOptions(from) { PageSize = 128 }));
        await sink.DisposeAsync();
        return (await QdrantSinkKit.ReadBackAsync(client, to), summary, sink);
    }

    [Fact]
    public async Task A_collection_with_named_dense_sparse_and_multivectors_and_mixed_ids_copies_exactly()
    {
        var from = NewCollectionName();
        fx.Server.CreateCollection(from,
            [new QdrantStandInVector("text", 32, "Cosine"), new QdrantStandInVector("image", 5, "Manhattan"), new QdrantStandInVector("colbert", 3, "Cosine", Multivector: true)],
            [new QdrantStandInSparse("bm25", "idf"), new QdrantStandInSparse("splade")]);
        var rng = new Random(77);
        var ids = new List<PointId> { 0UL, ulong.MaxValue, 1UL << 63, Guid.Empty, Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff") };
        for (var i = 0; ids.Count < 1500; i++) ids.Add(i % 3 == 0 ? Uuid((byte)(i % 256), i) : (PointId)(ulong)(i * 7919L));
        var records = ids.Select((id, i) =>
        {
            var v = new Dictionary<string, VectorValue>();
            if (i % 4 != 3) v["text"] = new DenseVector(RandomVector(rng, 32));
            if (i % 2 == 0) v["image"] = new DenseVector(RandomVector(rng, 5));
            if (i % 3 == 0) v["colbert"] = new MultiVector(Enumerable.Range(0, 1 + i % 4).Select(_ => RandomVector(rng, 3)).ToArray());
            if (i % 5 != 0) v["bm25"] = new SparseVector([(uint)i, (uint)i + 3, uint.MaxValue], [1.5f, 0f, -(float)rng.NextDouble()]);
            if (i % 7 == 0) v["splade"] = new SparseVector([], []);
            return new VectorRecord(id, v, JsonPayload.FromString(i % 11 == 0 ? "{}" : $$$"""{"i":{{{i}}},"big":18446744073709551615,"neg":-1.5e-300,"s":"\u0000x","deep":{"a":[[1],[2,{"b":false}]]}}"""));
        }).ToList();
        // Seeded as Qdrant would have stored them: the Cosine spaces normalized.
        fx.Server.Seed(from, records, preprocess: true);
        var source = fx.Server.Points(from);

        var to = NewCollectionName();
        var (back, summary, sink) = await CopyAsync(from, to, new QdrantSinkOptions(to)
        {
            BatchSize = 100,
            SparseModifiers = new Dictionary<string, string> { ["bm25"] = "idf" },
        });

        Assert.Equal(1500, summary.RecordsWritten);
        Assert.Equal(15, summary.BatchesCommitted);
        Assert.True(sink.CreatedCollection);
        // The target normalizes the (already normalized) Cosine vectors again: where their float32 sum of squares is
        // off 1 by more than 1e-6 that moves the last bits, so they compare as normalized; all else is exact,
        // explicit sparse zeros and empty sparse vectors too.
        RecordAssert.SameSet(source, back, sparseZerosDropped: false, normalized: NormalizedVectors.Of("text", "colbert"));
        RecordAssert.SameSet(records, back, sparseZerosDropped: false, normalized: NormalizedVectors.Of("text", "colbert"));

        using var client = fx.Client();
        var a = await client.GetCollectionAsync(from);
        var b = await client.GetCollectionAsync(to);
        Assert.Equal(a.Vectors, b.Vectors);
        Assert.Equal(a.SparseVectors, b.SparseVectors);
        Assert.Equal(a.HasUnnamedVector, b.HasUnnamedVector);
        fx.AssertConforms(_checkedBefore, 12 + 3 + 15); // 12 scroll pages of 128, describe, create, describe, 15 upserts
    }

    [Fact]
    public async Task An_unnamed_cosine_collection_copies_into_an_existing_one_and_a_second_run_changes_nothing()
    {
        var from = NewCollectionName();
        fx.Server.CreateCollection(from, new QdrantStandInVector("", 256, "Cosine"));
        var rng = new Random(256);
        var records = Enumerable.Range(0, 700).Select(i => Dense(i % 2 == 0 ? (PointId)(ulong)i : Uuid(1, i), RandomVector(rng, 256), $$"""{"n":{{i}}}""")).ToList();
        fx.Server.Seed(from, records, preprocess: true);
        var to = NewCollectionName();
        fx.Server.CreateCollection(to, new QdrantStandInVector("", 256, "Cosine"));

        var options = new QdrantSinkOptions(to) { MaxRequestBytes = 200_000 };
        var (first, summary, sink) = await CopyAsync(from, to, options);
        Assert.False(sink.CreatedCollection);
        Assert.True(summary.BatchesCommitted >= 10, $"{summary.BatchesCommitted} requests of at most 200,000 bytes for ~2 MB");
        var source = fx.Server.Points(from);
        RecordAssert.SameSet(source, first, normalized: NormalizedVectors.Of(""));
        // Not bit for bit in every vector: Qdrant normalizes a stored vector again when its float32 sum of squares
        // is off 1 by more than 1e-6, which 256 dimensions summed in order sometimes are.
        Assert.Contains(source, s => first.Single(f => f.Id == s.Id).Embedding!.AsSpan().SequenceEqual(s.Embedding) == false);
        var (second, _, _) = await CopyAsync(from, to, options);
        RecordAssert.SameSet(first, second);
        Assert.Equal(700, fx.Server.Count(to));
        fx.AssertConforms(_checkedBefore, 2 * (6 + 1 + 10)); // twice: 6 scroll pages, describe, 10 upserts at least
    }
}
