using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Tests.Pipeline;

public sealed class MeasuredDigestTests
{
    private static VectorRecord Rec(PointId id, string? ns, string payload) =>
        new(id, new Dictionary<string, VectorValue> { [""] = new DenseVector([1, 2, 3]) }, JsonPayload.FromString(payload)) { Namespace = ns };

    private static MeasuredDigest Measure(IEnumerable<VectorRecord> records, DigestOptions? options = null, int[]? buckets = null)
    {
        var d = new VectorDigest(buckets, options);
        foreach (var r in records) d.Add(r);
        return new MeasuredDigest(d, "test", buckets);
    }

    [Fact]
    public void QdrantIds_makes_a_namespaced_string_id_source_equal_to_the_points_a_Qdrant_write_made_of_it()
    {
        var source = new[] { Rec("doc-1", "prod", """{"a":1}"""), Rec("doc-1", "", """{"a":2}"""), Rec(7UL, null, """{"a":3}""") };
        // As Write-QdrantPoint stores them: UUIDv5 ids, no namespace, the original id and namespace in the payload.
        var points = new[]
        {
            Rec(QdrantPointIds.ToQdrant("doc-1", "prod"), null, """{"a":1,"original_id":"doc-1","namespace":"prod"}"""),
            Rec(QdrantPointIds.ToQdrant("doc-1", ""), null, """{"a":2,"original_id":"doc-1","namespace":""}"""),
            Rec(7UL, null, """{"a":3}"""),
        };
        var ignore = new HashSet<string> { "original_id", "namespace" };

        Assert.False(MeasuredDigest.Compare(Measure(source, new DigestOptions { IgnorePayloadFields = ignore }), Measure(points, new DigestOptions { IgnorePayloadFields = ignore })).Equal);
        var cmp = MeasuredDigest.Compare(
            Measure(source, new DigestOptions { QdrantIds = true, IgnorePayloadFields = ignore }),
            Measure(points, new DigestOptions { IgnorePayloadFields = ignore }));
        Assert.True(cmp.Equal);
        Assert.Equal(3, cmp.TargetCount);
    }

    [Fact]
    public void Digests_of_different_buckets_do_not_compare()
    {
        var records = new[] { Rec(1UL, null, "{}") };
        var ex = Assert.Throws<VecMigrateException>(() => MeasuredDigest.Compare(Measure(records), Measure(records, buckets: [1, 2])));
        Assert.Equal("VectorDigestBucketsDiffer", ex.ErrorId);
        Assert.True(MeasuredDigest.Compare(Measure(records, buckets: [2, 1]), Measure(records, buckets: [1, 2, 2])).Equal);
    }

    [Fact]
    public void The_measured_digest_says_what_it_left_out()
    {
        var d = Measure([], new DigestOptions { NormalizeDense = true, IgnorePayloadFields = new HashSet<string> { "b", "a" }, IgnoreVectors = new HashSet<string> { "" } });
        Assert.Equal("dense vectors normalized; payload fields ignored: a, b; vectors ignored: (unnamed)", d.Options);
        Assert.Equal(0, d.Count);
        Assert.False(d.Detailed);
    }
}
