using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>What to read from a Qdrant collection, and from where.</summary>
public sealed class QdrantReadOptions
{
    public const int DefaultPageSize = 256;

    public QdrantReadOptions(string collection)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        Collection = collection;
    }

    public string Collection { get; }

    /// <summary>Points per scroll request, 1..10000.</summary>
    public int PageSize { get; init; } = DefaultPageSize;

    /// <summary>
    /// Four pages ahead: enough to keep reading and parsing while a Postgres writer completes and commits a batch
    /// of 2,000 (about 16% more records a second than one page ahead, 100k × 1,024 dims into a logged table on two
    /// cores), for about 5 MB of parsed records at 1,024 dimensions.
    /// </summary>
    public const int DefaultPrefetch = 4;

    /// <summary>
    /// Pages fetched and parsed ahead of the one the caller is working through, 1..64. More lets reading go on
    /// while the caller waits (a sink committing a batch, say), at the cost of that many pages in memory.
    /// </summary>
    public int Prefetch { get; init; } = DefaultPrefetch;

    /// <summary>A Qdrant filter object as JSON text (e.g. <c>{"must":[{"key":"city","match":{"value":"Oslo"}}]}</c>); null for all points.</summary>
    public string? FilterJson { get; init; }

    /// <summary>Payload: all (default), none, or only the named fields.</summary>
    public QdrantSelection Payload { get; init; } = QdrantSelection.All;

    /// <summary>Vectors: all (default), none, or only the named ones ("" is the unnamed vector).</summary>
    public QdrantSelection Vectors { get; init; } = QdrantSelection.All;

    /// <summary>A record's <see cref="VectorRecord.Position"/>: the read yields exactly the records after it.</summary>
    public string? StartAfter { get; init; }

    /// <summary>One partition of a split read (<see cref="PositionRange"/> as JSON: ids after one, up to another); null for all.</summary>
    public string? Range { get; init; }

    /// <summary>These options with <see cref="StartAfter"/> set to <paramref name="position"/> (every other option copied).</summary>
    public QdrantReadOptions WithStartAfter(string? position) => new(Collection)
    {
        PageSize = PageSize, Prefetch = Prefetch, FilterJson = FilterJson, Payload = Payload, Vectors = Vectors, StartAfter = position, Range = Range,
    };

    /// <summary>
    /// The read's identity for checkpoints: endpoint, collection, and what narrows it (a filter by digest, the
    /// vectors and payload chosen); never the start position or a secret.
    /// </summary>
    public string Describe(string endpoint)
    {
        var d = new StringBuilder($"Qdrant {endpoint} collection '{Collection}'");
        if (FilterJson is { } filter) d.Append(" filter #").Append(Pipeline.SourceIdentity.Digest(filter));
        if (Vectors != QdrantSelection.All) d.Append(" vectors ").Append(Vectors);
        if (Payload != QdrantSelection.All) d.Append(" payload ").Append(Payload);
        if (Range is { } range) d.Append(" ids ").Append(PositionRange.Parse(range).Describe());
        return d.ToString();
    }

    internal void Validate()
    {
        if (PageSize is < 1 or > QdrantScrollRequest.MaxLimit)
            throw new ArgumentOutOfRangeException(nameof(PageSize), PageSize, $"The page size must be between 1 and {QdrantScrollRequest.MaxLimit}.");
        if (Prefetch is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(Prefetch), Prefetch, "Prefetch must be between 1 and 64 pages.");
        ArgumentNullException.ThrowIfNull(Payload, nameof(Payload));
        ArgumentNullException.ThrowIfNull(Vectors, nameof(Vectors));
        if (FilterJson is not null)
        {
            try
            {
                using var doc = JsonDocument.Parse(FilterJson);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new VecMigrateException(FailureKind.InvalidArgument, "QdrantInvalidFilter", "A Qdrant filter must be a JSON object.", Collection);
            }
            catch (JsonException ex)
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "QdrantInvalidFilter", $"The Qdrant filter is not valid JSON: {ex.Message}", Collection, ex);
            }
        }
        if (StartAfter is not null) _ = QdrantSource.ParsePosition(StartAfter);
    }
}

/// <summary>
/// Reads a Qdrant collection as a stream of <see cref="VectorRecord"/>s: describes it as a
/// <see cref="SourceSchema"/>, then scrolls it to the end in id order, one page ahead of the consumer.
/// </summary>
/// <remarks>
/// Qdrant's scroll is ordered by <c>ExtendedPointId</c>, an enum of <c>NumId(u64)</c> then <c>Uuid</c> whose
/// derived ordering puts every integer id before every UUID, and UUIDs by their bytes (qdrant/qdrant
/// lib/segment/src/types.rs; the id tracker's <c>iter_from</c> walks the u64 map, then the UUID map). The
/// collection asks each shard for limit + 1 points from the offset (inclusive), sorts and dedups them by id, and
/// returns the extra point's id as <c>next_page_offset</c> (lib/collection/src/collection/point_ops.rs). So
/// a record's id is a stable resume point, and two one-point scrolls tell which id kinds exist.
/// </remarks>
public sealed class QdrantSource
{
    private static readonly PointId FirstUuid = PointId.FromUuid(Guid.Empty);

    private readonly QdrantClient _client;
    private readonly ILogger _logger;
    private volatile QdrantCollectionInfo? _described;

    public QdrantSource(QdrantClient client, ILogger? logger = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    }

    /// <summary>A Qdrant collection for a <see cref="Migration"/>, scrolled in id order; the runner sets <see cref="QdrantReadOptions.StartAfter"/>.</summary>
    public static MigrationSource AsMigrationSource(QdrantClient client, QdrantReadOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        var source = new QdrantSource(client, logger);
        return new MigrationSource(options.Describe(client.Endpoint), after => source.ReadAsync(options.WithStartAfter(after)))
        {
            EstimateCount = ct => source.EstimateCountAsync(options.WithStartAfter(null), ct),
            Search = options.FilterJson is null ? (query, ct) => source.SearchAsync(options.Collection, query, ct) : null,
            Fetch = (keys, ct) => source.ReadAsync(ByIds(options, keys), ct),
            Split = (n, ct) => source.SplitAsync(options, n, ct),
            Narrow = bounds => AsMigrationSource(client, new QdrantReadOptions(options.Collection)
            {
                PageSize = options.PageSize, Prefetch = options.Prefetch, FilterJson = options.FilterJson, Payload = options.Payload,
                Vectors = options.Vectors, Range = PositionRange.Parse(bounds).ToString(),
            }, logger),
            CannotSearchBecause = options.FilterJson is null ? null
                : "the read is filtered (-Filter), and its search would have to be filtered alike; search the whole collection instead",
        };
    }

    /// <summary>
    /// Splits the collection into <paramref name="count"/> id ranges that hold every point exactly once: Qdrant has no
    /// range condition on ids, so the ids alone are scrolled in order (pages of 10,000, no payload, no vectors) and
    /// every n-th of <c>points_count</c> becomes a bound; a partition scrolls from its lower bound (offset) and stops
    /// past its upper one. Ranges are (after, upTo]; the last has no upper bound, so points added meanwhile fall in it.
    /// Qdrant orders ids as the scroll does: integers, then UUIDs by their bytes.
    /// </summary>
    public async Task<IReadOnlyList<string>> SplitAsync(QdrantReadOptions options, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (count < 1) throw new VecMigrateException(FailureKind.InvalidArgument, "PartitionInvalid", $"A collection is split into at least one partition (got {count}).", options.Collection);
        if (count == 1) return [new PositionRange(null, null).ToString()];
        var total = (await _client.GetCollectionAsync(options.Collection, cancellationToken).ConfigureAwait(false)).PointsCount ?? 0;
        return await PositionRange.CutAsync(IdsAsync(options, cancellationToken), (long)Math.Min(total, long.MaxValue), count, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every id of the read in scroll order, the ids alone (pages of 10,000, no payload or vectors).</summary>
    private async IAsyncEnumerable<string> IdsAsync(QdrantReadOptions options, [EnumeratorCancellation] CancellationToken ct)
    {
        PointId? offset = null;
        while (true)
        {
            var page = await _client.ScrollAsync(options.Collection, new QdrantScrollRequest
            {
                Limit = QdrantScrollRequest.MaxLimit, Offset = offset, FilterJson = options.FilterJson, WithPayload = QdrantSelection.None, WithVector = QdrantSelection.None,
            }, ct).ConfigureAwait(false);
            foreach (var p in page.Points) yield return p.Id.ToString();
            if (page.NextPageOffset is not { } next) yield break;
            offset = next;
        }
    }

    /// <summary>
    /// The read narrowed to the points with these ids (a <c>has_id</c> condition added to the read's own filter), one
    /// page: for a sample check, which finds the sampled records by id instead of scrolling the whole collection.
    /// </summary>
    public static QdrantReadOptions ByIds(QdrantReadOptions options, IReadOnlyList<VectorRecord> keys)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(keys);
        var ids = new System.Text.Json.Nodes.JsonArray();
        foreach (var k in keys)
        {
            ids.Add(k.Id.Kind switch
            {
                PointIdKind.Unsigned => (System.Text.Json.Nodes.JsonNode)k.Id.AsUnsigned,
                PointIdKind.Uuid => k.Id.AsUuid.ToString("D"),
                _ => throw new ArgumentException($"Qdrant point ids are unsigned integers or UUIDs, not '{k.Id}'.", nameof(keys)),
            });
        }
        var must = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["has_id"] = ids });
        if (options.FilterJson is { } own) must.Add(System.Text.Json.Nodes.JsonNode.Parse(own));
        return new QdrantReadOptions(options.Collection)
        {
            PageSize = Math.Clamp(keys.Count, 1, 10_000), Prefetch = 1, Payload = options.Payload, Vectors = options.Vectors,
            FilterJson = new System.Text.Json.Nodes.JsonObject { ["must"] = must }.ToJsonString(),
        };
    }

    /// <summary>
    /// A dense query through Qdrant's Query API, in the collection's own metric (Qdrant's scores are already the
    /// common form: cosine similarity, inner product, Euclid and Manhattan distances). A query with a namespace is
    /// narrowed to points whose payload field <c>namespace</c> holds it (where a copy from Pinecone keeps it).
    /// </summary>
    public async Task<SearchAnswer> SearchAsync(string collection, SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        // The collection's description once per source, not once per query.
        var described = _described;
        if (described is null || described.Name != collection)
        {
            described = await _client.GetCollectionAsync(collection, cancellationToken).ConfigureAwait(false);
            _described = described;
        }
        var info = described;
        var space = info.Vectors.FirstOrDefault(v => v.Name == query.Vector) ?? throw new VecMigrateException(FailureKind.InvalidArgument,
            "QdrantSearchVectorNotFound", $"Qdrant collection '{collection}' has no dense vector '{query.Vector}' (it has {string.Join(", ", info.Vectors.Select(v => $"'{v.Name}'"))}).", collection);
        if (space.IsMultivector)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "QdrantSearchUnsupported",
                $"Vector '{space.Name}' of Qdrant collection '{collection}' is a multivector; search parity compares dense vectors only.", collection);
        }
        if (space.Distance == DistanceMetric.Unknown)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "QdrantSearchUnsupported",
                $"Qdrant collection '{collection}' ranks by '{space.DistanceName}', which this version of VecMigrate cannot compare.", collection);
        }
        var hits = await _client.QueryAsync(collection, query.Vector, query.Values, query.TopK, query.Exact,
            query.Namespace is null ? null : QdrantSinkOptions.DefaultNamespaceField, query.Namespace, cancellationToken).ConfigureAwait(false);
        var found = new List<SearchHit>(hits.Count);
        foreach (var (id, score) in hits) found.Add(new SearchHit(new VectorRecord(id, new Dictionary<string, VectorValue>(), null), score));
        return new SearchAnswer(space.Distance, found, $"Qdrant query API, {(query.Exact ? "exact" : "HNSW index")}");
    }

    /// <summary>
    /// Builds the schema every record of a read will share: the collection's vector spaces (those the options
    /// select) and the id kinds it holds. Id kinds cost two one-point scrolls with the read's filter: one from
    /// the start (an integer first means integers exist; a UUID first means only UUIDs do) and, when integers
    /// exist, one from the nil UUID (any point means UUIDs exist too).
    /// </summary>
    public async Task<SourceSchema> DescribeAsync(QdrantReadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var info = await _client.GetCollectionAsync(options.Collection, cancellationToken).ConfigureAwait(false);
        var idKinds = await ProbeIdKindsAsync(options, cancellationToken).ConfigureAwait(false);
        QdrantLog.IdKindsProbed(_logger, options.Collection, idKinds.ToString());
        return BuildSchema(info, idKinds, options.Vectors);
    }

    /// <summary>
    /// How many records a read with <paramref name="options"/> yields, as the collection's <c>points_count</c> says
    /// (Qdrant's own estimate, for progress only); null where that does not count the read: a filter, or a read that
    /// starts after a position.
    /// </summary>
    public async Task<long?> EstimateCountAsync(QdrantReadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.FilterJson is not null || options.StartAfter is not null) return null;
        var info = await _client.GetCollectionAsync(options.Collection, cancellationToken).ConfigureAwait(false);
        return info.PointsCount is { } n and <= long.MaxValue ? (long)n : null;
    }

    /// <summary>The schema of a collection whose id kinds are known; vectors limited to <paramref name="vectors"/>.</summary>
    public static SourceSchema BuildSchema(QdrantCollectionInfo info, IdKinds idKinds, QdrantSelection? vectors = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        vectors ??= QdrantSelection.All;
        var fields = new List<VectorField>();
        foreach (var v in info.Vectors)
        {
            if (!vectors.Includes(v.Name)) continue;
            fields.Add(new VectorField(v.Name, v.IsMultivector ? VectorKind.Multi : VectorKind.Dense, v.Size, v.Distance, v.Datatype));
        }
        foreach (var s in info.SparseVectors)
        {
            // Sparse spaces have no metric of their own (dot product on the non-zeros); the idf modifier is a
            // query-time weighting that stays in QdrantCollectionInfo.
            if (vectors.Includes(s.Name)) fields.Add(new VectorField(s.Name, VectorKind.Sparse, null, DistanceMetric.Unknown, s.Datatype));
        }
        return new SourceSchema(SourceKind.Qdrant, info.Name, idKinds, fields, hasNamespaces: false, payloadName: "payload");
    }

    private async Task<IdKinds> ProbeIdKindsAsync(QdrantReadOptions options, CancellationToken cancellationToken)
    {
        var probe = new QdrantScrollRequest
        {
            Limit = 1,
            FilterJson = options.FilterJson,
            WithPayload = QdrantSelection.None,
            WithVector = QdrantSelection.None,
        };
        var first = await _client.ScrollAsync(options.Collection, probe, cancellationToken).ConfigureAwait(false);
        if (first.Points.Count == 0) return IdKinds.None;
        if (first.Points[0].Id.Kind == PointIdKind.Uuid) return IdKinds.Uuid; // integers would have come first
        var uuids = await _client.ScrollAsync(options.Collection, new QdrantScrollRequest
        {
            Limit = 1,
            Offset = FirstUuid,
            FilterJson = options.FilterJson,
            WithPayload = QdrantSelection.None,
            WithVector = QdrantSelection.None,
        }, cancellationToken).ConfigureAwait(false);
        return uuids.Points.Count > 0 ? IdKinds.Unsigned | IdKinds.Uuid : IdKinds.Unsigned;
    }

    /// <summary>Describes the collection (<see cref="DescribeAsync"/>), then reads it.</summary>
    public async IAsyncEnumerable<VectorRecord> ReadAsync(QdrantReadOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var schema = await DescribeAsync(options, cancellationToken).ConfigureAwait(false);
        await foreach (var record in ReadAsync(options, schema, cancellationToken).ConfigureAwait(false))
        {
            yield return record;
        }
    }

    /// <summary>
    /// Streams the collection's records in Qdrant's id order, each stamped with <paramref name="schema"/>, its
    /// origin and its position. Pages are fetched and parsed by a reader of their own, up to
    /// <see cref="QdrantReadOptions.Prefetch"/> pages ahead of the caller (each page needs the previous one's
    /// next_page_offset, so they come one after another); memory stays at that many pages plus the caller's,
    /// whatever the collection's size.
    /// </summary>
    public async IAsyncEnumerable<VectorRecord> ReadAsync(QdrantReadOptions options, SourceSchema schema,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(schema);
        options.Validate();
        var stamp = new RecordStamp(schema, new RecordOrigin(SourceKind.Qdrant, _client.Endpoint, options.Collection) { Read = options.Describe(_client.Endpoint) }, WithPosition: true);

        PointId? offset = null;
        PointId? skip = null;
        var range = options.Range is { } rangeText ? PositionRange.Parse(rangeText) : null;
        if (range is { IsEmpty: true }) yield break;
        PointId? upTo = range?.UpTo is { } u ? ParsePosition(u) : (PointId?)null;
        // A partition starts after its lower bound (a resumed one after its checkpoint, always past that bound).
        if ((options.StartAfter ?? range?.After) is { } startAfter)
        {
            // "After r" = scroll from r's id (offset is inclusive) and drop r itself if it is still there.
            var after = ParsePosition(startAfter);
            offset = after;
            skip = after;
            QdrantLog.Resuming(_logger, options.Collection, after.ToString());
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A page is asked for only when there is room for it: the caller's page plus `Prefetch` waiting.
        var pages = Channel.CreateBounded<QdrantScrollPage>(new BoundedChannelOptions(options.Prefetch) { SingleReader = true, SingleWriter = true });
        var reader = Task.Run(() => FetchPagesAsync(options, stamp, offset, pages.Writer, stop.Token), CancellationToken.None);
        long count = 0;
        var pageCount = 0;
        var finished = false;
        try
        {
            while (await pages.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (pages.Reader.TryRead(out var page))
                {
                    pageCount++;
                    foreach (var record in page.Points)
                    {
                        if (skip is { } s)
                        {
                            skip = null;
                            if (record.Id == s) continue;
                        }
                        if (upTo is { } last && record.Id.CompareTo(last) > 0)
                        {
                            // Past the partition's upper bound: the rest belongs to the next one (the finally below
                            // stops the reader, as for a caller that stops early).
                            QdrantLog.ReadFinished(_logger, options.Collection, count, pageCount);
                            yield break;
                        }
                        count++;
                        yield return record;
                    }
                }
            }
            await reader.ConfigureAwait(false); // its failure, if it ended in one
            finished = true;
            QdrantLog.ReadFinished(_logger, options.Collection, count, pageCount);
        }
        finally
        {
            if (!finished)
            {
                // The caller stopped early (or failed): stop the reader and observe its end.
                await stop.CancelAsync().ConfigureAwait(false);
                try
                {
                    await reader.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // its outcome no longer matters
                }
            }
        }
    }

    /// <summary>Scrolls from <paramref name="offset"/> to the end, checking each page, into <paramref name="pages"/>.</summary>
    private async Task FetchPagesAsync(QdrantReadOptions options, RecordStamp stamp, PointId? offset, ChannelWriter<QdrantScrollPage> pages, CancellationToken stop)
    {
        var fetched = 0;
        try
        {
            PointId? last = null;
            while (await RoomAsync().ConfigureAwait(false))
            {
                var page = await _client.ScrollAsync(options.Collection, new QdrantScrollRequest
                {
                    Limit = options.PageSize,
                    Offset = offset,
                    FilterJson = options.FilterJson,
                    WithPayload = options.Payload,
                    WithVector = options.Vectors,
                }, stamp, stop).ConfigureAwait(false);
                fetched++;
                QdrantLog.PageFetched(_logger, options.Collection, offset?.ToString() ?? "the start", page.Points.Count,
                    page.NextPageOffset?.ToString() ?? "none (last page)");
                Check(page, offset, last, options.Collection);
                if (page.Points.Count > 0) last = page.Points[^1].Id;
                await pages.WriteAsync(page, stop).ConfigureAwait(false);
                if (page.NextPageOffset is not { } next) break;
                offset = next;
            }
        }
        finally
        {
            pages.TryComplete();
        }

        ValueTask<bool> RoomAsync()
        {
            var room = pages.WaitToWriteAsync(stop);
            if (!room.IsCompleted) QdrantLog.ReadAheadFull(_logger, options.Collection, options.Prefetch, fetched);
            return room;
        }
    }

    /// <summary>
    /// Guards "every point exactly once, in order": ids ascend within and across pages, start at or after the
    /// requested offset, and next_page_offset lies beyond the page (else the loop would never end).
    /// </summary>
    private void Check(QdrantScrollPage page, PointId? offset, PointId? last, string collection)
    {
        var previous = last;
        foreach (var record in page.Points)
        {
            if (offset is { } o && previous is null && record.Id.CompareTo(o) < 0)
                throw Disorder($"point {record.Id} comes before the requested offset {o}");
            if (previous is { } p && record.Id.CompareTo(p) <= 0)
                throw Disorder($"point {record.Id} follows point {p}, out of id order");
            previous = record.Id;
        }
        if (page.NextPageOffset is { } next)
        {
            if (page.Points.Count == 0) throw Disorder($"an empty page points on to {next}");
            if (next.CompareTo(previous!.Value) <= 0) throw Disorder($"next_page_offset {next} does not lie after the page's last point {previous}");
        }

        VecMigrateException Disorder(string what) => new(FailureKind.InvalidResponse, "QdrantInvalidResponse",
            $"Scrolling Qdrant collection '{collection}': the answer is not what Qdrant's API promises: {what}.", $"{_client.Endpoint}/collections/{collection}");
    }

    /// <summary>The resume token of a record with id <paramref name="id"/>: the id as Qdrant writes it.</summary>
    public static string PositionOf(PointId id) => id.Kind switch
    {
        PointIdKind.Unsigned or PointIdKind.Uuid => id.ToString(),
        _ => throw new ArgumentException($"A Qdrant position is an unsigned integer or UUID id, not a {id.Kind} id.", nameof(id)),
    };

    /// <summary>The id a position token stands for.</summary>
    public static PointId ParsePosition(string position)
    {
        ArgumentNullException.ThrowIfNull(position);
        if (PointId.TryParseQdrant(position, out var id)) return id;
        throw new VecMigrateException(FailureKind.InvalidArgument, "QdrantInvalidPosition",
            $"'{(position.Length > 80 ? position[..80] + "…" : position)}' is not a Qdrant read position (an unsigned integer or a UUID).");
    }
}
