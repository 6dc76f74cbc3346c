using VecMigrate.Engine.Records;

namespace VecMigrate.Testing;

/// <summary>
/// How to compare the vectors a target normalized (Qdrant's Cosine spaces): the expected vector is first normalized
/// with <see cref="VectorMath.Normalize"/>; then compared bit for bit (<see cref="Exact"/>: right for the stand-in,
/// which does Qdrant's portable float32 arithmetic) or within <see cref="VectorMath.NormalizationTolerance"/> per
/// element, relative (right for a real Qdrant, whose SIMD paths add the squares in another order).
/// </summary>
public sealed record NormalizedVectors(IReadOnlySet<string> Names, bool Exact = true)
{
    public static NormalizedVectors Of(params string[] names) => new(new HashSet<string>(names, StringComparer.Ordinal));

    public static NormalizedVectors Within(params string[] names) => new(new HashSet<string>(names, StringComparer.Ordinal), Exact: false);
}

/// <summary>Exact comparison of records for tests: ids, namespaces, vectors bit for bit, payloads deep-equal.</summary>
public static class RecordAssert
{
    /// <summary>Null when equal, else what differs first.</summary>
    /// <param name="normalized">Vectors the target stores normalized; null for none.</param>
    public static string? Difference(VectorRecord expected, VectorRecord actual, bool sparseZerosDropped = true, NormalizedVectors? normalized = null)
    {
        if (expected.Id != actual.Id) return $"id {actual.Id} ({actual.Id.Kind}), expected {expected.Id} ({expected.Id.Kind})";
        var where = $"record {expected}";
        if ((expected.Namespace ?? "") != (actual.Namespace ?? "")) return $"{where}: namespace '{actual.Namespace}', expected '{expected.Namespace}'";
        if (expected.Vectors.Count != actual.Vectors.Count)
        {
            return $"{where}: vectors [{string.Join(",", actual.Vectors.Keys)}], expected [{string.Join(",", expected.Vectors.Keys)}]";
        }
        foreach (var (name, ev) in expected.Vectors)
        {
            if (!actual.Vectors.TryGetValue(name, out var av)) return $"{where}: vector '{name}' missing";
            var d = normalized is not null && normalized.Names.Contains(name)
                ? NormalizedDifference(ev, av, normalized.Exact)
                : VectorDifference(ev, av, sparseZerosDropped);
            if (d != null) return $"{where}: vector '{name}': {d}";
        }
        var ep = expected.Payload;
        var ap = actual.Payload;
        if (ep is null != ap is null) return $"{where}: payload {(ap is null ? "null" : ap.ToString())}, expected {(ep is null ? "null" : ep.ToString())}";
        if (ep != null && !JsonPayload.DeepEquals(ep.Utf8Json.Span, ap!.Utf8Json.Span)) return $"{where}: payload {ap}, expected {ep}";
        return null;
    }

    public static string? VectorDifference(VectorValue e, VectorValue a, bool sparseZerosDropped = true)
    {
        if (e.Kind != a.Kind) return $"{a.Kind}, expected {e.Kind}";
        switch (e)
        {
            case DenseVector d:
                return Bits(d.Values, ((DenseVector)a).Values);
            case MultiVector m:
            {
                var am = (MultiVector)a;
                if (m.Vectors.Length != am.Vectors.Length) return $"{am.Vectors.Length} vectors, expected {m.Vectors.Length}";
                for (var i = 0; i < m.Vectors.Length; i++)
                {
                    if (Bits(m.Vectors[i], am.Vectors[i]) is { } diff) return $"[{i}] {diff}";
                }
                return null;
            }
            case SparseVector s:
            {
                var sa = (SparseVector)a;
                // Sorted by index; explicit zeros are the same vector (sparsevec cannot hold them).
                var ep = s.Indices.Zip(s.Values).Where(p => !sparseZerosDropped || p.Second != 0).OrderBy(p => p.First).ToList();
                var ap = sa.Indices.Zip(sa.Values).OrderBy(p => p.First).ToList();
                if (ep.Count != ap.Count) return $"{ap.Count} non-zeros, expected {ep.Count}";
                for (var i = 0; i < ep.Count; i++)
                {
                    if (ep[i].First != ap[i].First || BitConverter.SingleToInt32Bits(ep[i].Second) != BitConverter.SingleToInt32Bits(ap[i].Second))
                    {
                        return $"entry {i} is {ap[i].First}:{ap[i].Second:R}, expected {ep[i].First}:{ep[i].Second:R}";
                    }
                }
                return null;
            }
        }
        return "unknown vector kind";
    }

    /// <summary>
    /// Null when <paramref name="a"/> is <paramref name="e"/> normalized (each multivector row on its own): bit for bit
    /// when <paramref name="exact"/>, else within <see cref="VectorMath.NormalizationTolerance"/> of each element.
    /// </summary>
    public static string? NormalizedDifference(VectorValue e, VectorValue a, bool exact = true)
    {
        if (e.Kind != a.Kind) return $"{a.Kind}, expected {e.Kind}";
        switch (e)
        {
            case DenseVector d:
                return Near(VectorMath.Normalize(d.Values), ((DenseVector)a).Values, exact);
            case MultiVector m:
            {
                var am = (MultiVector)a;
                if (m.Vectors.Length != am.Vectors.Length) return $"{am.Vectors.Length} vectors, expected {m.Vectors.Length}";
                for (var i = 0; i < m.Vectors.Length; i++)
                {
                    if (Near(VectorMath.Normalize(m.Vectors[i]), am.Vectors[i], exact) is { } diff) return $"[{i}] {diff}";
                }
                return null;
            }
            default:
                return "only dense vectors and multivectors are normalized";
        }
    }

    private static string? Near(float[] e, float[] a, bool exact)
    {
        if (exact) return Bits(e, a);
        if (e.Length != a.Length) return $"{a.Length} dimensions, expected {e.Length}";
        var tolerance = VectorMath.NormalizationTolerance(e.Length);
        for (var i = 0; i < e.Length; i++)
        {
            if (!(MathF.Abs(a[i] - e[i]) <= tolerance * MathF.Abs(e[i])))
                return $"position {i} is {a[i]:R}, expected {e[i]:R} within a relative {tolerance:G3}";
        }
        return null;
    }

    private static string? Bits(float[] e, float[] a)
    {
        if (e.Length != a.Length) return $"{a.Length} dimensions, expected {e.Length}";
        for (var i = 0; i < e.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(e[i]) != BitConverter.SingleToInt32Bits(a[i])) return $"position {i} is {a[i]:R}, expected {e[i]:R}";
        }
        return null;
    }

    /// <summary>Asserts the two sets hold the same records (by namespace and id), each exactly equal.</summary>
    public static void SameSet(IEnumerable<VectorRecord> expected, IEnumerable<VectorRecord> actual, bool sparseZerosDropped = true, NormalizedVectors? normalized = null)
    {
        var byKey = new Dictionary<(string, PointId), VectorRecord>();
        foreach (var r in expected) byKey.Add((r.Namespace ?? "", r.Id), r);
        var seen = 0;
        var problems = new List<string>();
        foreach (var r in actual)
        {
            seen++;
            if (!byKey.Remove((r.Namespace ?? "", r.Id), out var e))
            {
                problems.Add($"unexpected or duplicate record {r} ({r.Id.Kind})");
            }
            else if (Difference(e, r, sparseZerosDropped, normalized) is { } d)
            {
                problems.Add(d);
            }
            if (problems.Count >= 10) break;
        }
        problems.AddRange(byKey.Values.Take(10 - Math.Min(10, problems.Count)).Select(r => $"missing record {r} ({r.Id.Kind})"));
        if (problems.Count > 0) throw new Xunit.Sdk.XunitException($"Records differ ({seen} read, {byKey.Count} missing):\n  " + string.Join("\n  ", problems));
    }
}
