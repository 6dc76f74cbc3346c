using System.Collections.Concurrent;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>How search parity is measured (<see cref="MigrationCheckOptions.Search"/>).</summary>
public sealed class SearchParityOptions
{
    /// <summary>How many query vectors are drawn from the source (a uniform sample, seeded).</summary>
    public int Queries { get; init; }

    /// <summary>How many neighbours each side returns.</summary>
    public int TopK { get; init; } = 10;

    /// <summary>The vector searched; null: the source's first dense vector.</summary>
    public string? Vector { get; init; }

    /// <summary>Search through each side's index where it has one (as applications do) instead of exactly.</summary>
    public bool Approximate { get; init; }

    /// <summary>How many queries run at once (each asks both sides).</summary>
    public int Parallelism { get; init; } = 4;
}

/// <summary>The outcome of search parity: recall of the source's neighbours among the target's, and scores compared.</summary>
/// <param name="Queries">Queries asked of both sides.</param>
/// <param name="TopK">Neighbours asked for per query.</param>
/// <param name="Recall">Mean over the queries of the share of the source's top-K found in the target's top-K.</param>
/// <param name="MinRecall">The worst query's recall.</param>
/// <param name="MaxScoreDifference">The largest |source score − target score| of a neighbour both returned, in the common form; null when the sides rank by different metrics.</param>
/// <param name="Metric">The metric both ranked by, or "source X, target Y" where they differ.</param>
/// <param name="SourceMethod">How the source searched.</param>
/// <param name="TargetMethod">How the target searched.</param>
/// <param name="WorstQueries">The queries with the lowest recall (at most five): the query record's key and its recall.</param>
public sealed record SearchParityResult(int Queries, int TopK, double Recall, double MinRecall, double? MaxScoreDifference, string Metric,
    string SourceMethod, string TargetMethod, IReadOnlyList<string> WorstQueries)
{
    public override string ToString() => $"recall@{TopK} {Recall:0.####} over {Queries:N0} queries ({Metric})";
}

/// <summary>
/// Draws query vectors from the source while it is read for the record check (reservoir sampling, seeded: memory for
/// the queries only), then asks both sides for each query's top-K and measures how many of the source's neighbours
/// the target returns. A neighbour the target left out is forgiven when it ties (within float32 rounding) with the
/// last one the target returned: at the K-th place, ties may come back in either order.
/// </summary>
public sealed class SearchParity
{
    private readonly SearchParityOptions _options;
    private readonly Random _random;
    private readonly List<(VectorRecord Record, float[] Values)> _queries;
    private string? _vector;
    private DistanceMetric _metric;
    private long _seen;

    public SearchParity(SearchParityOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Queries < 1) throw new VecMigrateException(FailureKind.InvalidArgument, "SearchParityInvalid", $"Search parity needs at least one query (got {options.Queries}).");
        if (options.TopK is < 1 or > 1000) throw new VecMigrateException(FailureKind.InvalidArgument, "SearchParityInvalid", $"Top-K must be between 1 and 1,000 (got {options.TopK}).");
        _options = options;
        _random = new Random(unchecked(seed * 31 + 17));
        _queries = new List<(VectorRecord, float[])>(Math.Min(options.Queries, 100_000));
        _vector = options.Vector;
    }

    /// <summary>Offers one source record as a possible query (those without the searched dense vector are passed over).</summary>
    public void Offer(VectorRecord record)
    {
        if (_vector is null)
        {
            _vector = record.Schema?.Vectors.FirstOrDefault(v => v.Kind == VectorKind.Dense)?.Name
                      ?? record.Vectors.FirstOrDefault(v => v.Value is DenseVector).Key;
            if (_vector is null) return;
        }
        if (!record.Vectors.TryGetValue(_vector, out var value) || value is not DenseVector dense) return;
        if (_metric == DistanceMetric.Unknown && record.Schema?.Vectors.FirstOrDefault(v => v.Name == _vector) is { } field) _metric = field.Metric;
        _seen++;
        var slot = _seen <= _options.Queries ? _queries.Count : _random.NextInt64(_seen);
        if (slot >= _options.Queries) return;
        var keyOnly = new VectorRecord(record.Id, new Dictionary<string, VectorValue>(), null) { Namespace = record.Namespace };
        var entry = (keyOnly, (float[])dense.Values.Clone());
        if (slot == _queries.Count) _queries.Add(entry);
        else _queries[(int)slot] = entry;
    }

    /// <summary>Asks both sides every drawn query and compares their answers.</summary>
    /// <param name="source">The side copied from.</param>
    /// <param name="target">The side copied to.</param>
    /// <param name="sourceKey">The key a source record has on the target (the digest's id mapping).</param>
    /// <param name="targetKey">A target record's key.</param>
    /// <param name="progress">Called after each query.</param>
    /// <param name="cancellationToken">Stops the queries.</param>
    public async Task<SearchParityResult> RunAsync(MigrationSource source, MigrationSource target, Func<VectorRecord, string> sourceKey,
        Func<VectorRecord, string> targetKey, Action? progress, CancellationToken cancellationToken)
    {
        EnsureSearchable(source, target);
        var (searchSource, searchTarget) = (source.Search!, target.Search!);
        if (_queries.Count == 0)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "SearchParityNoQueries",
                _vector is null ? $"{source.Description} has no dense vector to search with." : $"No record of {source.Description} has the dense vector '{_vector}' to search with.", source.Description);
        }
        if (_metric == DistanceMetric.Unknown)
        {
            // The source does not say which metric its vectors are for: rank by the target's (a Postgres side can choose).
            var (record, values) = _queries[0];
            _metric = (await searchTarget(new SearchQuery(_vector!, values, _options.TopK, _metric, record.Namespace, !_options.Approximate), cancellationToken).ConfigureAwait(false)).Metric;
        }
        var results = new ConcurrentBag<(string Query, double Recall, double? ScoreDifference, DistanceMetric SourceMetric, DistanceMetric TargetMetric, string SourceMethod, string TargetMethod)>();
        await Parallel.ForEachAsync(_queries, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism, CancellationToken = cancellationToken }, async (q, ct) =>
        {
            var query = new SearchQuery(_vector!, q.Values, _options.TopK, _metric, q.Record.Namespace, !_options.Approximate);
            var answers = await Task.WhenAll(searchSource(query, ct), searchTarget(query, ct)).ConfigureAwait(false);
            var (s, t) = (answers[0], answers[1]);
            var (recall, difference) = Compare(s, t, sourceKey, targetKey);
            results.Add((VectorDigest.KeyOf(q.Record), recall, s.Metric == t.Metric ? difference : null, s.Metric, t.Metric, s.Method, t.Method));
            progress?.Invoke();
        }).ConfigureAwait(false);

        var all = results.ToList();
        var first = all[0];
        var sameMetric = all.All(r => r.SourceMetric == r.TargetMetric);
        return new SearchParityResult(all.Count, _options.TopK, all.Average(r => r.Recall), all.Min(r => r.Recall),
            sameMetric ? all.Max(r => r.ScoreDifference ?? 0) : null,
            sameMetric ? $"{first.SourceMetric}: {VectorSearch.ScoreForm(first.SourceMetric)}" : $"source {first.SourceMetric}, target {first.TargetMetric}: scores not compared",
            first.SourceMethod, first.TargetMethod,
            all.Where(r => r.Recall < 1).OrderBy(r => r.Recall).ThenBy(r => r.Query, StringComparer.Ordinal).Take(5).Select(r => $"{r.Query}: {r.Recall:0.###}").ToList());
    }

    /// <summary>One query's recall (the source's neighbours found among the target's) and the largest score difference of neighbours both returned.</summary>
    public static (double Recall, double? ScoreDifference) Compare(SearchAnswer source, SearchAnswer target, Func<VectorRecord, string> sourceKey, Func<VectorRecord, string> targetKey)
    {
        if (source.Hits.Count == 0) return (target.Hits.Count == 0 ? 1 : 0, null);
        var found = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var h in target.Hits) found.TryAdd(targetKey(h.Record), h.Score);
        var last = target.Hits.Count > 0 ? target.Hits[^1].Score : (double?)null;
        double? difference = null;
        var hits = 0;
        foreach (var h in source.Hits)
        {
            if (found.TryGetValue(sourceKey(h.Record), out var score))
            {
                hits++;
                difference = Math.Max(difference ?? 0, Math.Abs(score - h.Score));
            }
            else if (target.Hits.Count >= source.Hits.Count && last is { } l && Ties(h.Score, l))
            {
                hits++; // tied with the target's last neighbour: either could be the K-th
            }
        }
        return ((double)hits / source.Hits.Count, difference);
    }

    // Equal within float32 rounding of the score (2^-20 of its size, at least 1e-6 absolute).
    private static bool Ties(double a, double b) => Math.Abs(a - b) <= Math.Max(1e-6, Math.Max(Math.Abs(a), Math.Abs(b)) * 9.5367431640625e-7);

    /// <summary>Throws <c>SearchParityUnsupported</c>, naming the side, unless both sides can search.</summary>
    public static void EnsureSearchable(MigrationSource source, MigrationSource target)
    {
        if (source.Search is null) throw CannotSearch(source);
        if (target.Search is null) throw CannotSearch(target);
    }

    private static VecMigrateException CannotSearch(MigrationSource side) => new(FailureKind.InvalidArgument, "SearchParityUnsupported",
        $"{side.Description} cannot be searched for search parity{(side.CannotSearchBecause is { } why ? ": " + why : " (this system has no search in VecMigrate yet)")}.", side.Description);
}
