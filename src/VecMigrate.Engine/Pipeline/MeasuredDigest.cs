using System.Text;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// A <see cref="VectorDigest"/> taken of one side of a migration, as Measure-VectorDigest returns it: how many
/// records, the digest value, the buckets it was limited to (a detailed digest) and what it left out. Two of these,
/// taken with the same buckets and the same comparison options, compare with <see cref="Compare"/>.
/// </summary>
public sealed class MeasuredDigest
{
    /// <param name="digest">The digest, every record added.</param>
    /// <param name="source">Where the records came from (the first record's origin), for display.</param>
    /// <param name="buckets">The buckets the digest was limited to; null for all.</param>
    public MeasuredDigest(VectorDigest digest, string? source, IReadOnlyList<int>? buckets)
    {
        Digest = digest ?? throw new ArgumentNullException(nameof(digest));
        Source = source ?? "";
        Buckets = buckets?.Distinct().Order().ToArray();
    }

    public string Source { get; }

    public long Count => Digest.Count;

    public string Value => Digest.Value;

    /// <summary>The buckets measured, each record's hash kept by key; null when all buckets were measured.</summary>
    public IReadOnlyList<int>? Buckets { get; }

    public bool Detailed => Buckets is not null;

    /// <summary>What the digest normalized or left out, in words ("" for nothing).</summary>
    public string Options => Describe(Digest.Options);

    /// <summary>The engine digest itself (per-bucket sums, and per-key hashes when detailed).</summary>
    public VectorDigest Digest { get; }

    /// <summary>
    /// Compares <paramref name="reference"/> (the source side) with <paramref name="difference"/> (the target side).
    /// Throws <see cref="VecMigrateException"/> when they were measured over different buckets, which would make
    /// every skipped record look missing.
    /// </summary>
    public static DigestComparison Compare(MeasuredDigest reference, MeasuredDigest difference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(difference);
        var a = reference.Buckets ?? [];
        var b = difference.Buckets ?? [];
        if (reference.Detailed != difference.Detailed || !a.SequenceEqual(b))
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "VectorDigestBucketsDiffer",
                $"The digests cover different buckets ({BucketText(reference)} and {BucketText(difference)}); measure both sides with the same -Bucket.");
        }
        return VectorDigest.Compare(reference.Digest, difference.Digest);
    }

    private static string BucketText(MeasuredDigest d) => d.Buckets is null ? "all" : string.Join(",", d.Buckets);

    private static string Describe(DigestOptions o)
    {
        var parts = new List<string>();
        if (o.NormalizeDense) parts.Add("dense vectors normalized");
        if (o.QdrantIds) parts.Add("ids as Qdrant points");
        if (o.IgnorePayload) parts.Add("payload ignored");
        if (o.IgnorePayloadFields.Count > 0) parts.Add("payload fields ignored: " + string.Join(", ", o.IgnorePayloadFields.Order(StringComparer.Ordinal)));
        if (o.IgnoreVectors.Count > 0) parts.Add("vectors ignored: " + string.Join(", ", o.IgnoreVectors.Order(StringComparer.Ordinal).Select(n => n.Length == 0 ? "(unnamed)" : n)));
        return string.Join("; ", parts);
    }

    public override string ToString() => new StringBuilder().Append(Count).Append(" records, ").Append(Value).ToString();
}
