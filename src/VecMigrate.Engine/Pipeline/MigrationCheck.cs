using System.Diagnostics;
using System.Text.Json.Nodes;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>How <see cref="MigrationCheck.RunAsync"/> compares.</summary>
public sealed class MigrationCheckOptions
{
    /// <summary>What the source's digest normalizes for the target (Qdrant's unit vectors and point ids).</summary>
    public bool NormalizeDense { get; init; }

    /// <summary>The source's ids as a Qdrant write makes them (UUIDv5 of string ids, namespaces folded in).</summary>
    public bool QdrantIds { get; init; }

    /// <summary>Top-level payload fields left out on both sides (e.g. original_id, namespace on a Qdrant target).</summary>
    public IReadOnlySet<string> IgnorePayloadFields { get; init; } = new HashSet<string>();

    /// <summary>Vectors left out on both sides, by name.</summary>
    public IReadOnlySet<string> IgnoreVectors { get; init; } = new HashSet<string>();

    /// <summary>Check a uniform random sample of this many source records (found on the target by key) instead of all.</summary>
    public int? Sample { get; init; }

    /// <summary>The sample's seed, so that a check can be repeated exactly.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>At most this many records are described (the counts are always whole).</summary>
    public int MaxDifferences { get; init; } = 100;

    /// <summary>Differing buckets examined record by record, at most (each holds about 1/1024 of the records).</summary>
    public int MaxDetailBuckets { get; init; } = 64;

    /// <summary>Search parity as well: query vectors drawn from the source, each side's top-K compared.</summary>
    public SearchParityOptions? Search { get; init; }

    /// <summary>Search queries answered by both sides so far (for progress).</summary>
    public Action? SearchProgress { get; init; }

    /// <summary>Records read on both sides so far (for progress).</summary>
    public Action<long>? Progress { get; init; }
}

/// <summary>One record that differs: missing on the target, extra on it, or changed (with what changed).</summary>
/// <param name="Key">"namespace/id" or the id, with its kind (u:42, g:uuid, s:text).</param>
/// <param name="Kind">Missing, Extra or Changed.</param>
/// <param name="Paths">For a changed record: each vector (vectors.name) or payload path (payload.a.b[2]) that differs.</param>
/// <param name="MaxVectorDifference">For a changed vector: the largest absolute difference of one float; null when no vector value differs.</param>
public sealed record RecordDifference(string Key, string Kind, IReadOnlyList<string> Paths, double? MaxVectorDifference)
{
    public override string ToString() => Paths.Count == 0 ? $"{Kind} {Key}" : $"{Kind} {Key}: {string.Join(", ", Paths)}";
}

/// <summary>The outcome of a check of a migration: equal or not, counts, and the records that differ.</summary>
public sealed record MigrationCheckResult(bool Equal, string Source, string Target, long SourceCount, long TargetCount,
    long Missing, long Extra, long Changed, IReadOnlyList<RecordDifference> Differences, int? Sample, string Method, TimeSpan Elapsed)
{
    /// <summary>Differing records beyond those described (the counts are whole; the list is capped).</summary>
    public long NotDescribed => Missing + Extra + Changed - Differences.Count;

    /// <summary>Search parity, when it was asked for.</summary>
    public SearchParityResult? Search { get; init; }
}

/// <summary>
/// Proves a migration record by record, memory flat: an order-independent digest of each side (read concurrently),
/// then, where buckets differ, a second read of both sides keeping each record's hash in those buckets only (which
/// names the missing, extra and changed records), then a third keeping the changed records themselves to say what
/// changed. With a sample: a uniform reservoir sample of source keys, their hashes found on the target.
/// </summary>
public static class MigrationCheck
{
    public static async Task<MigrationCheckResult> RunAsync(MigrationSource source, MigrationSource target, MigrationCheckOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var (sourceOptions, targetOptions) = DigestOptionsOf(options);
        long read = 0;
        void Count() => options.Progress?.Invoke(Interlocked.Increment(ref read));

        var parity = options.Search is { } so ? new SearchParity(so, options.Seed) : null;
        // Before reading anything: a check that cannot search says so at once, not after an hour of digests.
        if (parity is not null) SearchParity.EnsureSearchable(source, target);
        var result = options.Sample is { } n
            ? await SampleAsync(source, target, options, sourceOptions, targetOptions, n, clock, Count, parity, cancellationToken).ConfigureAwait(false)
            : await WholeAsync(source, target, options, sourceOptions, targetOptions, clock, Count, parity, cancellationToken).ConfigureAwait(false);
        if (parity is null) return result;
        var search = await parity.RunAsync(source, target, r => VectorDigest.KeyOf(options.QdrantIds ? VectorDigest.AsQdrantPoint(r) : r), VectorDigest.KeyOf,
            options.SearchProgress, cancellationToken).ConfigureAwait(false);
        return result with { Search = search, Elapsed = clock.Elapsed };
    }

    private static async Task<MigrationCheckResult> WholeAsync(MigrationSource source, MigrationSource target, MigrationCheckOptions options,
        DigestOptions sourceOptions, DigestOptions targetOptions, Stopwatch clock, Action Count, SearchParity? parity, CancellationToken cancellationToken)
    {
        // 1. Digests of both sides, read at the same time (the source's records offered as search queries on the way).
        var sides = await Task.WhenAll(
            DigestAsync(source, new VectorDigest(null, sourceOptions), Count, cancellationToken, parity),
            DigestAsync(target, new VectorDigest(null, targetOptions), Count, cancellationToken)).ConfigureAwait(false);
        var whole = VectorDigest.Compare(sides[0], sides[1]);
        if (whole.Equal)
        {
            return new MigrationCheckResult(true, source.Description, target.Description, whole.SourceCount, whole.TargetCount, 0, 0, 0, [], null,
                "digest of every record", clock.Elapsed);
        }

        // 2. The differing buckets again, each record's hash kept: which records differ.
        var buckets = whole.DifferingBuckets.Take(options.MaxDetailBuckets).ToList();
        var detail = await Task.WhenAll(
            DigestAsync(source, new VectorDigest(buckets, sourceOptions), Count, cancellationToken),
            DigestAsync(target, new VectorDigest(buckets, targetOptions), Count, cancellationToken)).ConfigureAwait(false);
        var named = VectorDigest.Compare(detail[0], detail[1]);
        var (missing, extra, changed) = (named.Missing!, named.Extra!, named.Changed!);
        // Where not every differing bucket was examined, the counts are scaled to the whole (a count, never a guess at names).
        var scale = whole.DifferingBuckets.Count > buckets.Count ? (double)whole.DifferingBuckets.Count / buckets.Count : 1.0;
        var differences = await DescribeAsync(source, target, options, sourceOptions, missing, extra, changed, Count, cancellationToken).ConfigureAwait(false);
        var method = scale > 1
            ? $"digest of every record; {buckets.Count} of {whole.DifferingBuckets.Count} differing buckets examined record by record (counts estimated from them)"
            : "digest of every record; differing buckets examined record by record";
        return new MigrationCheckResult(false, source.Description, target.Description, whole.SourceCount, whole.TargetCount,
            (long)Math.Round(missing.Count * scale), (long)Math.Round(extra.Count * scale), (long)Math.Round(changed.Count * scale), differences, null, method, clock.Elapsed);
    }

    private static (DigestOptions Source, DigestOptions Target) DigestOptionsOf(MigrationCheckOptions o) => (
        new DigestOptions { NormalizeDense = o.NormalizeDense, QdrantIds = o.QdrantIds, IgnorePayloadFields = o.IgnorePayloadFields, IgnoreVectors = o.IgnoreVectors },
        new DigestOptions { IgnorePayloadFields = o.IgnorePayloadFields, IgnoreVectors = o.IgnoreVectors });

    private static async Task<VectorDigest> DigestAsync(MigrationSource side, VectorDigest digest, Action count, CancellationToken ct, SearchParity? parity = null)
    {
        await foreach (var r in side.Read(null).WithCancellation(ct).ConfigureAwait(false))
        {
            parity?.Offer(r);
            digest.Add(r);
            count();
        }
        return digest;
    }

    /// <summary>A third read of both sides keeping the records named changed (at most the cap), to say what changed in each.</summary>
    private static async Task<List<RecordDifference>> DescribeAsync(MigrationSource source, MigrationSource target, MigrationCheckOptions options,
        DigestOptions sourceOptions, IReadOnlyList<string> missing, IReadOnlyList<string> extra, IReadOnlyList<string> changed, Action count, CancellationToken ct,
        IReadOnlyDictionary<string, (VectorRecord Source, VectorRecord Target)>? ids = null)
    {
        var result = new List<RecordDifference>();
        foreach (var k in missing.Take(options.MaxDifferences)) result.Add(new RecordDifference(k, "Missing", [], null));
        foreach (var k in extra.Take(Math.Max(0, options.MaxDifferences - result.Count))) result.Add(new RecordDifference(k, "Extra", [], null));
        var wanted = changed.Take(Math.Max(0, options.MaxDifferences - result.Count)).ToHashSet(StringComparer.Ordinal);
        if (wanted.Count == 0) return result;
        var found = await Task.WhenAll(
            CollectAsync(source, wanted, sourceOptions, count, ct, ids?.Where(p => wanted.Contains(p.Key)).Select(p => p.Value.Source).ToList()),
            CollectAsync(target, wanted, new DigestOptions(), count, ct, ids?.Where(p => wanted.Contains(p.Key)).Select(p => p.Value.Target).ToList())).ConfigureAwait(false);
        foreach (var key in changed.Where(wanted.Contains))
        {
            if (!found[0].TryGetValue(key, out var a) || !found[1].TryGetValue(key, out var b))
            {
                result.Add(new RecordDifference(key, "Changed", ["(changed between reads)"], null));
                continue;
            }
            var (paths, max) = Diff(a, b, options, sourceOptions.NormalizeDense);
            result.Add(new RecordDifference(key, "Changed", paths, max));
        }
        return result;
    }

    /// <param name="side">The side read.</param>
    /// <param name="keys">The digest keys of the records wanted.</param>
    /// <param name="options">How this side's keys are made (Qdrant ids, for a source copied into Qdrant).</param>
    /// <param name="count">Called for every record read.</param>
    /// <param name="ct">Stops the read.</param>
    /// <param name="ids">The wanted records' ids as this side names them, where known: then a side that can fetch by key does.</param>
    private static async Task<Dictionary<string, VectorRecord>> CollectAsync(MigrationSource side, HashSet<string> keys, DigestOptions options, Action count, CancellationToken ct,
        IReadOnlyList<VectorRecord>? ids = null)
    {
        var found = new Dictionary<string, VectorRecord>(StringComparer.Ordinal);
        void Keep(VectorRecord r)
        {
            count();
            var key = VectorDigest.KeyOf(options.QdrantIds ? VectorDigest.AsQdrantPoint(r) : r);
            if (keys.Contains(key)) found[key] = r;
        }
        if (ids is not null && side.Fetch is { } fetch)
        {
            foreach (var chunk in ids.Chunk(MigrationSource.MaxFetch))
            {
                await foreach (var r in fetch(chunk, ct).WithCancellation(ct).ConfigureAwait(false)) Keep(r);
            }
            return found;
        }
        await foreach (var r in side.Read(null).WithCancellation(ct).ConfigureAwait(false)) Keep(r);
        return found;
    }

    /// <summary>What differs between the source's record <paramref name="a"/> and the target's <paramref name="b"/>.</summary>
    public static (List<string> Paths, double? MaxVectorDifference) Diff(VectorRecord a, VectorRecord b, MigrationCheckOptions options, bool normalizeSource)
    {
        var paths = new List<string>();
        double? max = null;
        foreach (var name in a.Vectors.Keys.Union(b.Vectors.Keys).Where(n => !options.IgnoreVectors.Contains(n)).Order(StringComparer.Ordinal))
        {
            var path = "vectors." + (name.Length == 0 ? "(unnamed)" : name);
            if (!a.Vectors.TryGetValue(name, out var va) || !b.Vectors.TryGetValue(name, out var vb))
            {
                paths.Add(path + (a.Vectors.ContainsKey(name) ? " (missing on the target)" : " (only on the target)"));
                continue;
            }
            var (x, y) = (Floats(va, normalizeSource), Floats(vb, false));
            if (va.Kind != vb.Kind || x.Length != y.Length || (va is SparseVector sa && vb is SparseVector sb && !sa.Indices.AsSpan().SequenceEqual(sb.Indices)))
            {
                paths.Add($"{path} ({va} on the source, {vb} on the target)");
                continue;
            }
            double worst = 0;
            var differing = 0;
            for (var i = 0; i < x.Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(x[i]) == BitConverter.SingleToInt32Bits(y[i])) continue;
                differing++;
                worst = Math.Max(worst, Math.Abs((double)x[i] - y[i]));
            }
            if (differing == 0) continue;
            paths.Add($"{path} ({differing} of {x.Length} values)");
            max = Math.Max(max ?? 0, worst);
        }
        var pa = a.Payload?.ToNode() as JsonObject;
        var pb = b.Payload?.ToNode() as JsonObject;
        foreach (var field in options.IgnorePayloadFields)
        {
            pa?.Remove(field);
            pb?.Remove(field);
        }
        DiffJson(pa is { Count: > 0 } ? pa : null, pb is { Count: > 0 } ? pb : null, "payload", paths);
        return (paths, max);
    }

    private static float[] Floats(VectorValue v, bool normalize)
    {
        var values = v switch
        {
            DenseVector d => d.Values,
            SparseVector s => s.Values,
            MultiVector m => m.Vectors.SelectMany(r => r).ToArray(),
            _ => [],
        };
        return normalize && v is DenseVector ? VectorMath.Normalize(values) : values;
    }

    private static void DiffJson(JsonNode? a, JsonNode? b, string path, List<string> paths)
    {
        if (paths.Count >= 20) return;
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)).Order(StringComparer.Ordinal))
            {
                DiffJson(oa.TryGetPropertyValue(key, out var x) ? x : null, ob.TryGetPropertyValue(key, out var y) ? y : null, $"{path}.{key}", paths);
            }
            return;
        }
        if (a is JsonArray xa && b is JsonArray xb && xa.Count == xb.Count)
        {
            for (var i = 0; i < xa.Count; i++) DiffJson(xa[i], xb[i], $"{path}[{i}]", paths);
            return;
        }
        if (a is null && b is null) return;
        if (a is null || b is null || !JsonNode.DeepEquals(a, b) && !SameNumber(a, b)) paths.Add(path);
    }

    // 1.0 and 1 are the same number (the digest's canonical JSON says so too).
    private static bool SameNumber(JsonNode a, JsonNode b) =>
        a is JsonValue va && b is JsonValue vb && va.TryGetValue<double>(out var x) && vb.TryGetValue<double>(out var y) && x.Equals(y);

    /// <summary>
    /// A uniform sample of <paramref name="size"/> source records (reservoir sampling, seeded; memory for the sample
    /// only), each record's hash; then the target read once, keeping only the sampled keys' hashes.
    /// </summary>
    private static async Task<MigrationCheckResult> SampleAsync(MigrationSource source, MigrationSource target, MigrationCheckOptions options,
        DigestOptions sourceOptions, DigestOptions targetOptions, int size, Stopwatch clock, Action count, SearchParity? parity, CancellationToken ct)
    {
        if (size < 1) throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationCheckSampleInvalid", $"A sample holds at least one record (got {size}).");
        var rng = new Random(options.Seed);
        var reservoir = new List<(string Key, string Hash, VectorRecord Id, VectorRecord SourceId)>(size);
        long seen = 0;
        await foreach (var r in source.Read(null).WithCancellation(ct).ConfigureAwait(false))
        {
            count();
            parity?.Offer(r);
            seen++;
            var slot = seen <= size ? reservoir.Count : rng.NextInt64(seen);
            if (slot >= size) continue;
            var (key, hash) = VectorDigest.HashOf(r, sourceOptions);
            // The record's key as the target names it: its id (a Qdrant write's id, where it went to Qdrant) and namespace.
            var id = options.QdrantIds ? VectorDigest.AsQdrantPoint(r) : r;
            var entry = (key, hash, new VectorRecord(id.Id, new Dictionary<string, VectorValue>(), null) { Namespace = id.Namespace },
                new VectorRecord(r.Id, new Dictionary<string, VectorValue>(), null) { Namespace = r.Namespace });
            if (slot == reservoir.Count) reservoir.Add(entry);
            else reservoir[(int)slot] = entry;
        }
        var sampled = reservoir.ToDictionary(p => p.Key, p => p.Hash, StringComparer.Ordinal);
        var onTarget = new Dictionary<string, string>(StringComparer.Ordinal);
        long targetCount = 0;
        string found;
        if (target.Fetch is { } fetch)
        {
            // Found by key, a thousand at a time: the target is never read whole (its count is its own estimate).
            foreach (var chunk in reservoir.Select(p => p.Id).Chunk(MigrationSource.MaxFetch))
            {
                await foreach (var r in fetch(chunk, ct).WithCancellation(ct).ConfigureAwait(false))
                {
                    count();
                    var (key, hash) = VectorDigest.HashOf(r, targetOptions);
                    if (sampled.ContainsKey(key)) onTarget[key] = hash;
                }
            }
            targetCount = await target.EstimateCountAsync(ct).ConfigureAwait(false) ?? -1;
            found = "fetched from the target by key (its count is its own estimate" + (targetCount < 0 ? ", which it has none of: -1)" : ")");
        }
        else
        {
            await foreach (var r in target.Read(null).WithCancellation(ct).ConfigureAwait(false))
            {
                count();
                targetCount++;
                var (key, hash) = VectorDigest.HashOf(r, targetOptions);
                if (sampled.ContainsKey(key)) onTarget[key] = hash;
            }
            found = "found on the target by key (read whole)";
        }
        var missing = sampled.Keys.Where(k => !onTarget.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var changed = sampled.Where(kv => onTarget.TryGetValue(kv.Key, out var h) && h != kv.Value).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        var differences = await DescribeAsync(source, target, options, sourceOptions, missing, [], changed, count, ct,
            reservoir.ToDictionary(p => p.Key, p => (p.SourceId, p.Id), StringComparer.Ordinal)).ConfigureAwait(false);
        return new MigrationCheckResult(missing.Count == 0 && changed.Count == 0, source.Description, target.Description, seen, targetCount,
            missing.Count, 0, changed.Count, differences, reservoir.Count,
            $"uniform sample of {reservoir.Count:N0} of {seen:N0} source records (seed {options.Seed}), {found}", clock.Elapsed);
    }
}
