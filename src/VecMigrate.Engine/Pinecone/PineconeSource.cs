using System.Text.Json;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pinecone;

/// <summary>Which index a <see cref="PineconeSource"/> reads.</summary>
public sealed class PineconeSourceOptions
{
    /// <summary>The index name (asked of the control plane unless <see cref="IndexHost"/> is given).</summary>
    public required string IndexName { get; init; }

    /// <summary>
    /// The index's data-plane host (<c>idx-abc123.svc....pinecone.io</c>) or url. When given, the control plane
    /// is not called; the schema then comes from <c>describe_index_stats</c> and the deployment is unknown.
    /// </summary>
    public string? IndexHost { get; init; }
}

/// <summary>What a <see cref="PineconeSource.ReadAsync"/> reads.</summary>
public sealed class PineconeReadOptions
{
    /// <summary>The namespaces to read, in this order (<c>""</c> is the default one); null for all of them.</summary>
    public IReadOnlyList<string>? Namespaces { get; init; }

    /// <summary>Only records whose id starts with this (the list operation's <c>prefix</c>).</summary>
    public string? IdPrefix { get; init; }

    /// <summary>Ids per list page and per fetch, 1 to 100.</summary>
    public int PageSize { get; init; } = PineconeClient.MaxListLimit;

    /// <summary>
    /// Ids to read instead of listing them (the way to read a pod-based index, which cannot list): each
    /// namespace is asked for these ids, in this order; those it lacks are skipped.
    /// </summary>
    public IReadOnlyList<string>? Ids { get; init; }

    /// <summary>A <see cref="VectorRecord.Position"/> from an earlier read with the same options: yields exactly the records after it.</summary>
    public string? StartAfter { get; init; }

    /// <summary>
    /// The read's identity for checkpoints: the index, and what narrows the read (namespaces, id prefix, ids by
    /// digest); never the start position or a secret.
    /// </summary>
    public string Describe(string indexName)
    {
        var d = new StringBuilder($"Pinecone index '{indexName}'");
        if (Namespaces is { } ns) d.Append(" namespaces ").Append(string.Join(",", ns.Select(n => $"'{PineconeNamespace.Normalize(n)}'")));
        if (!string.IsNullOrEmpty(IdPrefix)) d.Append(" prefix '").Append(IdPrefix).Append('\'');
        if (Ids is { } ids) d.Append(" ids #").Append(Pipeline.SourceIdentity.Digest(string.Join("\n", ids)));
        return d.ToString();
    }

    /// <summary>These options with <see cref="StartAfter"/> set to <paramref name="position"/> (every other option copied).</summary>
    public PineconeReadOptions WithStartAfter(string? position) => new()
    {
        Namespaces = Namespaces, IdPrefix = IdPrefix, PageSize = PageSize, Ids = Ids, StartAfter = position,
    };

    /// <summary>These options reading <paramref name="namespaces"/> only (an empty list reads nothing).</summary>
    public PineconeReadOptions WithNamespaces(IReadOnlyList<string> namespaces) => new()
    {
        Namespaces = namespaces, IdPrefix = IdPrefix, PageSize = PageSize, Ids = Ids, StartAfter = StartAfter,
    };
}

/// <summary>
/// Reads a Pinecone index: every namespace (or those named), each by listing its ids page by page and
/// fetching their records, in list order. While the caller consumes one page, the next is listed and
/// fetched (one page ahead, no more), so memory stays at two pages.
/// </summary>
public sealed class PineconeSource
{
    private readonly PineconeClient _client;
    private readonly PineconeSourceOptions _options;
    private Resolved? _resolved;

    public PineconeSource(PineconeClient client, PineconeSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.IndexName);
        _client = client;
        _options = options;
    }

    /// <summary>This index for a <see cref="Migration"/>, namespace by namespace in list order.</summary>
    public MigrationSource AsMigrationSource(PineconeReadOptions? options = null)
    {
        options ??= new PineconeReadOptions();
        return new MigrationSource(options.Describe(IndexName), after => ReadAsync(options.WithStartAfter(after)))
        {
            EstimateCount = ct => EstimateCountAsync(options.WithStartAfter(null), ct),
            Split = (n, ct) => SplitAsync(options, n, ct),
            Narrow = bounds => AsMigrationSource(options.WithNamespaces(ParseNamespaces(bounds))),
            Search = SearchAsync,
            Fetch = (keys, ct) => FetchAsync(options, keys, ct),
        };
    }

    /// <summary>
    /// A dense query of one namespace (the query's; the default one when it has none) through Pinecone's query, in the
    /// index's metric: cosine similarity and the dot product as Pinecone gives them, euclidean's squared distance
    /// rooted (<see cref="VectorSearch"/>). Pinecone always searches its index: there is no exact mode to ask for.
    /// </summary>
    public async Task<SearchAnswer> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var resolved = await ResolveAsync(cancellationToken).ConfigureAwait(false);
        var field = resolved.Schema.Vectors.FirstOrDefault(v => v.Name == query.Vector && v.Kind == VectorKind.Dense) ?? throw new VecMigrateException(FailureKind.InvalidArgument,
            "PineconeSearchUnsupported", $"Pinecone index '{IndexName}' has no dense vector '{query.Vector}' to search (sparse-only indexes cannot be compared).", IndexName);
        var ns = PineconeNamespace.Normalize(query.Namespace);
        var hits = await _client.QueryAsync(resolved.IndexUrl, ns, query.Values, query.TopK, cancellationToken).ConfigureAwait(false);
        var found = new List<SearchHit>(hits.Count);
        foreach (var (id, score) in hits)
        {
            found.Add(new SearchHit(new VectorRecord(PointId.FromString(id), new Dictionary<string, VectorValue>(), null) { Namespace = ns },
                field.Metric == DistanceMetric.Euclid ? Math.Sqrt(Math.Max(0, score)) : score));
        }
        return new SearchAnswer(field.Metric, found, "Pinecone query (its index; no exact mode)");
    }

    /// <summary>The records with these keys (ids within their namespaces), fetched namespace by namespace.</summary>
    private async IAsyncEnumerable<VectorRecord> FetchAsync(PineconeReadOptions options, IReadOnlyList<VectorRecord> keys,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var group in keys.Where(k => k.Id.Kind == PointIdKind.String).GroupBy(k => PineconeNamespace.Normalize(k.Namespace)))
        {
            var byIds = new PineconeReadOptions { Namespaces = [group.Key], Ids = group.Select(k => k.Id.AsString).ToList() };
            await foreach (var r in ReadAsync(byIds, ct).ConfigureAwait(false)) yield return r;
        }
    }

    /// <summary>
    /// Splits the read into <paramref name="count"/> parts by namespace: Pinecone lists ids only within a namespace
    /// and has no way to cut one namespace into ranges, so each part is a set of whole namespaces, balanced by the
    /// vector counts <c>describe_index_stats</c> reports (largest first, each to the part with the fewest). An index
    /// with fewer namespaces than parts gets empty parts; one with a single namespace is read in one lane. The
    /// namespaces are those there when the split is made (it is fixed with the checkpoint).
    /// </summary>
    public async Task<IReadOnlyList<string>> SplitAsync(PineconeReadOptions options, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count));
        var resolved = await ResolveAsync(cancellationToken).ConfigureAwait(false);
        var stats = await _client.DescribeIndexStatsAsync(resolved.IndexUrl, cancellationToken).ConfigureAwait(false);
        var namespaces = ChooseNamespaces(options, stats, out var counts);
        var parts = Enumerable.Range(0, count).Select(_ => new List<string>()).ToList();
        var load = new long[count];
        foreach (var ns in namespaces.OrderByDescending(n => counts.GetValueOrDefault(n)).ThenBy(n => n, StringComparer.Ordinal))
        {
            var least = Array.IndexOf(load, load.Min());
            parts[least].Add(ns);
            load[least] += counts.GetValueOrDefault(ns);
        }
        return parts.Select(p => JsonSerializer.Serialize(p.Order(StringComparer.Ordinal).ToList())).ToList();
    }

    private static List<string> ParseNamespaces(string bounds)
    {
        try
        {
            if (JsonSerializer.Deserialize<List<string>>(bounds) is { } list) return list;
        }
        catch (JsonException)
        {
        }
        throw new VecMigrateException(FailureKind.InvalidArgument, "PineconePartitionInvalid", $"'{bounds}' is not a partition of a Pinecone index (a list of namespaces).", bounds);
    }

    public string IndexName => _options.IndexName;

    private ILogger Logger => _client.Logger;

    /// <summary>
    /// The index's schema: string ids, the dense vector <c>""</c> (with dimension and metric) where the index has
    /// a dimension, the sparse vector <c>"sparse"</c> for sparse indexes and for dense dotproduct indexes (which
    /// can hold sparse values too), namespaces, and payload called <c>metadata</c>.
    /// </summary>
    public async Task<SourceSchema> DescribeAsync(CancellationToken cancellationToken = default) =>
        (await ResolveAsync(cancellationToken).ConfigureAwait(false)).Schema;

    /// <summary>
    /// How many records a read with <paramref name="options"/> yields, from <c>describe_index_stats</c> (the vector
    /// counts of the namespaces read; Pinecone's counts lag fresh writes a little, so for progress only); null where
    /// the stats do not count the read: an id prefix, a list of ids, or a read that starts after a position.
    /// </summary>
    public async Task<long?> EstimateCountAsync(PineconeReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PineconeReadOptions();
        if (!string.IsNullOrEmpty(options.IdPrefix) || options.Ids is not null || options.StartAfter is not null) return null;
        var resolved = await ResolveAsync(cancellationToken).ConfigureAwait(false);
        var stats = await _client.DescribeIndexStatsAsync(resolved.IndexUrl, cancellationToken).ConfigureAwait(false);
        if (options.Namespaces is null) return stats.TotalVectorCount;
        var chosen = options.Namespaces.Select(PineconeNamespace.Normalize).ToHashSet(StringComparer.Ordinal);
        return stats.Namespaces.Where(n => chosen.Contains(PineconeNamespace.Normalize(n.Key))).Sum(n => n.Value);
    }

    private sealed record Resolved(Uri IndexUrl, PineconeDeployment Deployment, SourceSchema Schema, RecordOrigin Origin);

    private async Task<Resolved> ResolveAsync(CancellationToken ct)
    {
        if (_resolved is { } done) return done;
        Uri url;
        int? dimension;
        string metric;
        string vectorType;
        var deployment = PineconeDeployment.Unknown;
        if (_options.IndexHost is { Length: > 0 } host)
        {
            url = _client.IndexUrl(host);
            var stats = await _client.DescribeIndexStatsAsync(url, ct).ConfigureAwait(false);
            dimension = stats.Dimension;
            metric = stats.Metric ?? "";
            vectorType = stats.VectorType ?? (dimension is null ? "sparse" : "dense");
        }
        else
        {
            var model = await _client.DescribeIndexAsync(_options.IndexName, ct).ConfigureAwait(false);
            url = _client.IndexUrl(model.Host);
            dimension = model.Dimension;
            metric = model.Metric;
            vectorType = model.VectorType;
            deployment = model.Deployment;
        }
        PineconeLog.IndexDescribed(Logger, _options.IndexName, url.AbsoluteUri, deployment, dimension, metric, vectorType);
        var schema = BuildSchema(_options.IndexName, dimension, ToMetric(metric), vectorType);
        var origin = new RecordOrigin(SourceKind.Pinecone, url.AbsoluteUri.TrimEnd('/'), _options.IndexName);
        return _resolved = new Resolved(url, deployment, schema, origin);
    }

    internal static DistanceMetric ToMetric(string? metric) => metric?.ToLowerInvariant() switch
    {
        "cosine" => DistanceMetric.Cosine,
        "euclidean" => DistanceMetric.Euclid,
        "dotproduct" => DistanceMetric.Dot,
        _ => DistanceMetric.Unknown,
    };

    private static SourceSchema BuildSchema(string name, int? dimension, DistanceMetric metric, string vectorType)
    {
        var fields = new List<VectorField>(2);
        var sparseIndex = string.Equals(vectorType, "sparse", StringComparison.OrdinalIgnoreCase);
        if (!sparseIndex && dimension is { } d)
        {
            fields.Add(new VectorField(VectorRecord.DefaultVectorName, VectorKind.Dense, d, metric, "float32"));
        }
        // Sparse indexes hold only sparse values; dense dotproduct indexes may hold sparse values beside the
        // dense ones. Where the metric is unknown the field is declared so that a sink can take either.
        if (sparseIndex || metric is DistanceMetric.Dot or DistanceMetric.Unknown)
        {
            fields.Add(new VectorField(PineconeFetchParser.SparseVectorName, VectorKind.Sparse, null,
                sparseIndex ? DistanceMetric.Dot : metric, "float32"));
        }
        return new SourceSchema(SourceKind.Pinecone, name, IdKinds.String, fields, hasNamespaces: true, payloadName: "metadata");
    }

    /// <summary>
    /// Streams the records: namespace by namespace, each in list order (bitwise order of the ids' UTF-8 bytes).
    /// A listed id that fetch does not return (deleted meanwhile) is logged and skipped.
    /// </summary>
    public async IAsyncEnumerable<VectorRecord> ReadAsync(PineconeReadOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new PineconeReadOptions();
        if (options.PageSize is < 1 or > PineconeClient.MaxListLimit)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, PineconeErrorIds.InvalidArgument,
                $"The page size must be 1 to {PineconeClient.MaxListLimit} (it is {options.PageSize}).", _options.IndexName);
        }
        var resolved = await ResolveAsync(cancellationToken).ConfigureAwait(false);
        if (options.Ids is null && resolved.Deployment == PineconeDeployment.Pod)
        {
            throw PineconeClient.ListUnsupported(_options.IndexName, $"Index '{_options.IndexName}' is pod-based.");
        }
        var stats = await _client.DescribeIndexStatsAsync(resolved.IndexUrl, cancellationToken).ConfigureAwait(false);
        var read = new ReadPlan(resolved, options, ChooseNamespaces(options, stats, out var counts),
            resolved.Origin with { Read = options.Describe(_options.IndexName) });
        var first = FirstRequest(read);
        if (first is null) yield break;

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pending = LoadPageAsync(read, first, cts.Token);
        string? currentNamespace = null;
        long emitted = 0, missing = 0;
        try
        {
            while (pending is not null)
            {
                var page = await pending.ConfigureAwait(false);
                // Start on the next page now, so that its list and fetch overlap the caller's work on this one.
                pending = page.Next is { } next ? LoadPageAsync(read, next, cts.Token) : null;
                if (!string.Equals(page.Namespace, currentNamespace, StringComparison.Ordinal))
                {
                    if (currentNamespace is not null) PineconeLog.NamespaceDone(Logger, currentNamespace, emitted, missing);
                    currentNamespace = page.Namespace;
                    emitted = missing = 0;
                    PineconeLog.ReadingNamespace(Logger, currentNamespace, _options.IndexName, counts.GetValueOrDefault(currentNamespace));
                }
                missing += page.Missing;
                foreach (var record in page.Records)
                {
                    emitted++;
                    yield return record;
                }
            }
            if (currentNamespace is not null) PineconeLog.NamespaceDone(Logger, currentNamespace, emitted, missing);
        }
        finally
        {
            if (pending is not null)
            {
                // The caller stopped early (or failed): abandon the page being read ahead.
                cts.Cancel();
                try
                {
                    await pending.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Its outcome no longer matters.
                }
            }
        }
    }

    private sealed record ReadPlan(Resolved Index, PineconeReadOptions Options, IReadOnlyList<string> Namespaces, RecordOrigin Origin)
    {
        public string? Prefix { get; } = string.IsNullOrEmpty(Options.IdPrefix) ? null : Options.IdPrefix;

        public IReadOnlyList<string>? Ids { get; } = Options.Ids is null ? null
            : string.IsNullOrEmpty(Options.IdPrefix) ? Options.Ids
            : Options.Ids.Where(i => i.StartsWith(Options.IdPrefix, StringComparison.Ordinal)).ToList();
    }

    // Token: the list pagination token of the page (list mode). Offset: where the page starts in the explicit
    // ids (ids mode). Resume: the position to resume after, for the first page of a resumed read.
    private sealed record PageRequest(int NamespaceIndex, string? Token, int Offset, PineconePosition? Resume);

    private sealed record PageResult(string Namespace, List<VectorRecord> Records, int Missing, PageRequest? Next);

    private List<string> ChooseNamespaces(PineconeReadOptions options, PineconeIndexStats stats, out Dictionary<string, long> counts)
    {
        counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var defaultNames = 0;
        foreach (var (name, count) in stats.Namespaces)
        {
            var n = PineconeNamespace.Normalize(name);
            if (n.Length == 0) defaultNames++;
            counts[n] = counts.GetValueOrDefault(n) + count;
        }
        if (defaultNames > 1) PineconeLog.DefaultNamespaceTwice(Logger);

        if (options.Namespaces is null)
        {
            var all = counts.Keys.ToList();
            all.Sort(StringComparer.Ordinal); // a stable order, so that a position resumes in the same sequence
            return all;
        }
        var chosen = new List<string>(options.Namespaces.Count);
        foreach (var name in options.Namespaces)
        {
            var n = PineconeNamespace.Normalize(name);
            if (chosen.Contains(n, StringComparer.Ordinal)) continue;
            if (!counts.ContainsKey(n)) PineconeLog.NamespaceNotInStats(Logger, n);
            chosen.Add(n);
        }
        return chosen;
    }

    private PageRequest? FirstRequest(ReadPlan read)
    {
        if (read.Namespaces.Count == 0) return null;
        if (read.Options.StartAfter is not { Length: > 0 } startAfter) return new PageRequest(0, null, 0, null);
        var p = PineconePosition.Decode(startAfter);
        if (p.ExplicitIds != read.Ids is not null)
        {
            throw BadResume(p.ExplicitIds ? "a read of given ids" : "a read that listed ids");
        }
        if (!string.Equals(p.Prefix, read.Prefix, StringComparison.Ordinal))
        {
            throw BadResume(p.Prefix is null ? "a read without an id prefix" : $"a read with the id prefix '{p.Prefix}'");
        }
        var index = IndexOf(read.Namespaces, p.Namespace);
        if (index < 0) throw BadResume($"namespace '{p.Namespace}', which this read does not include");
        return p.ExplicitIds ? new PageRequest(index, null, p.Count, null) : new PageRequest(index, p.PageToken, 0, p);
    }

    private VecMigrateException BadResume(string what) =>
        new(FailureKind.InvalidArgument, PineconeErrorIds.InvalidArgument,
            $"The position to resume after comes from {what}; resume with the options of the read that produced it.", _options.IndexName);

    private static int IndexOf(IReadOnlyList<string> list, string item)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (string.Equals(list[i], item, StringComparison.Ordinal)) return i;
        }
        return -1;
    }

    private async Task<PageResult> LoadPageAsync(ReadPlan read, PageRequest request, CancellationToken ct)
    {
        var ns = read.Namespaces[request.NamespaceIndex];
        var pageSize = read.Options.PageSize;
        IReadOnlyList<string> listed;
        int skip;
        PageRequest? next;
        Func<int, string, string> positionAt;
        if (read.Ids is { } given)
        {
            var start = Math.Min(request.Offset, given.Count);
            var count = Math.Min(pageSize, given.Count - start);
            listed = given.Skip(start).Take(count).ToList();
            skip = 0;
            next = start + count < given.Count
                ? request with { Offset = start + count, Resume = null }
                : NextNamespace(read, request);
            positionAt = (i, id) => new PineconePosition(true, ns, null, start + i + 1, id, read.Prefix).Encode();
        }
        else
        {
            var page = await _client.ListIdsAsync(read.Index.IndexUrl, ns, read.Prefix, pageSize, request.Token, ct).ConfigureAwait(false);
            PineconeLog.ListedPage(Logger, page.Ids.Count, ns, page.NextToken is not null);
            listed = page.Ids;
            skip = request.Resume is { } resume ? ResumeSkip(page.Ids, resume, ns) : 0;
            if (page.NextToken is { } token)
            {
                if (string.Equals(token, request.Token, StringComparison.Ordinal))
                {
                    throw new VecMigrateException(FailureKind.InvalidResponse, PineconeErrorIds.InvalidResponse,
                        $"Pinecone list ids: the pagination token did not advance in namespace '{ns}' (the same page would be read forever).",
                        _options.IndexName);
                }
                next = new PageRequest(request.NamespaceIndex, token, 0, null);
            }
            else
            {
                next = NextNamespace(read, request);
            }
            var pageToken = request.Token;
            positionAt = (i, id) => new PineconePosition(false, ns, pageToken, i + 1, id, read.Prefix).Encode();
        }

        var records = new List<VectorRecord>(listed.Count - skip);
        var missing = 0;
        if (listed.Count > skip)
        {
            var wanted = new List<string>(listed.Count - skip);
            var indexOf = new Dictionary<string, int>(listed.Count - skip, StringComparer.Ordinal);
            for (var i = skip; i < listed.Count; i++)
            {
                if (indexOf.TryAdd(listed[i], i)) wanted.Add(listed[i]);
            }
            var context = new PineconeRecordContext
            {
                Schema = read.Index.Schema,
                Origin = read.Origin,
                PositionOf = id => indexOf.TryGetValue(id, out var i) ? positionAt(i, id) : null,
            };
            var fetched = await _client.FetchAsync(read.Index.IndexUrl, ns, wanted, context, ct).ConfigureAwait(false);
            // Fetch answers a map; the records go out in list order.
            foreach (var id in wanted)
            {
                if (fetched.TryGetValue(id, out var record))
                {
                    records.Add(record);
                }
                else if (read.Ids is null)
                {
                    missing++;
                    PineconeLog.ListedButMissing(Logger, id, ns);
                }
            }
        }
        PineconeLog.PageReady(Logger, ns, records.Count, missing);
        return new PageResult(ns, records, missing, next);
    }

    private static PageRequest? NextNamespace(ReadPlan read, PageRequest request) =>
        request.NamespaceIndex + 1 < read.Namespaces.Count ? new PageRequest(request.NamespaceIndex + 1, null, 0, null) : null;

    /// <summary>How many ids of a re-listed page were consumed before the position.</summary>
    private int ResumeSkip(IReadOnlyList<string> ids, PineconePosition position, string ns)
    {
        if (position.Count <= ids.Count && string.Equals(ids[position.Count - 1], position.LastId, StringComparison.Ordinal))
        {
            return position.Count;
        }
        // Records were added or deleted since: the page is in id order, so skip what sorts up to the last id.
        PineconeLog.ResumePageChanged(Logger, ns, position.LastId, position.Count);
        var k = 0;
        while (k < ids.Count && CompareUtf8(ids[k], position.LastId) <= 0) k++;
        return k;
    }

    /// <summary>Orders strings as their UTF-8 bytes do (by code point), Pinecone's "C" collation.</summary>
    internal static int CompareUtf8(string a, string b)
    {
        var ea = a.EnumerateRunes();
        var eb = b.EnumerateRunes();
        while (true)
        {
            var ha = ea.MoveNext();
            var hb = eb.MoveNext();
            if (!ha || !hb) return ha == hb ? 0 : ha ? 1 : -1;
            var c = ea.Current.Value.CompareTo(eb.Current.Value);
            if (c != 0) return c;
        }
    }
}
