using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>Where and how <see cref="QdrantSink"/> writes.</summary>
public sealed class QdrantSinkOptions
{
    public const int DefaultBatchSize = 256;

    /// <summary>
    /// Qdrant refuses a request body over <c>service.max_request_size_mb</c>, 32 MiB by default; the sink stays
    /// 256 KiB under it, for proxies that count headers too.
    /// </summary>
    public const int DefaultMaxRequestBytes = 32 * 1024 * 1024 - 256 * 1024;

    /// <summary>The payload field that keeps a string id (which becomes a UUID: see <see cref="QdrantPointIds"/>).</summary>
    public const string DefaultOriginalIdField = "original_id";

    /// <summary>The payload field that keeps a record's namespace (Pinecone).</summary>
    public const string DefaultNamespaceField = "namespace";

    public QdrantSinkOptions(string collection)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        Collection = collection;
    }

    public string Collection { get; }

    /// <summary>
    /// The distance of every dense and multivector space of a collection the sink creates, in place of the source's.
    /// Needed where the source does not know its metric (records from plain objects, many Postgres tables).
    /// </summary>
    public DistanceMetric? Distance { get; init; }

    /// <summary>Points per upsert request, 1..100,000; a request is also cut short by <see cref="MaxRequestBytes"/>.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>The largest request body sent, in bytes; a single record larger than this is refused.</summary>
    public int MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;

    /// <summary>Create the collection from the source's schema when it is missing (else its absence is an error).</summary>
    public bool CreateCollection { get; init; } = true;

    /// <summary>The payload field where a string id is kept, the point's own id being its UUIDv5.</summary>
    public string OriginalIdField { get; init; } = DefaultOriginalIdField;

    /// <summary>The payload field where a record's namespace is kept ("" for Pinecone's default namespace).</summary>
    public string NamespaceField { get; init; } = DefaultNamespaceField;

    /// <summary>Ask Qdrant to answer once the points are applied (<c>wait=true</c>), not merely logged.</summary>
    public bool Wait { get; init; } = true;

    /// <summary>Modifiers for the sparse vectors of a created collection, by name (e.g. <c>bm25 → idf</c>).</summary>
    public IReadOnlyDictionary<string, string>? SparseModifiers { get; init; }

    internal void Validate()
    {
        if (BatchSize is < 1 or > 100_000) throw Invalid($"The batch size must be between 1 and 100,000 (got {BatchSize}).");
        if (MaxRequestBytes < 1024) throw Invalid($"The request size limit must be at least 1,024 bytes (got {MaxRequestBytes}).");
        if (string.IsNullOrEmpty(OriginalIdField)) throw Invalid("The original-id payload field needs a name.");
        if (string.IsNullOrEmpty(NamespaceField)) throw Invalid("The namespace payload field needs a name.");
        if (OriginalIdField == NamespaceField) throw Invalid($"Original ids and namespaces need two payload fields, not both '{NamespaceField}'.");
        if (Distance == DistanceMetric.Unknown) throw Invalid("The distance must be Cosine, Euclid, Dot or Manhattan.");
    }

    private VecMigrateException Invalid(string message) => new(FailureKind.InvalidArgument, "QdrantSinkOptionsInvalid", message, Collection);
}

/// <summary>What a write to Qdrant did.</summary>
/// <param name="Collection">The target collection.</param>
/// <param name="RecordsWritten">Records in batches Qdrant acknowledged.</param>
/// <param name="RecordsRejected">Records refused before sending (each reported by a <see cref="RecordRejectedException"/>).</param>
/// <param name="BatchesCommitted">Upsert requests Qdrant acknowledged.</param>
/// <param name="Elapsed">Time spent writing.</param>
public sealed record QdrantWriteSummary(string Collection, long RecordsWritten, long RecordsRejected, int BatchesCommitted, TimeSpan Elapsed)
{
    public double RecordsPerSecond => Elapsed.TotalSeconds > 0 ? RecordsWritten / Elapsed.TotalSeconds : 0;
}

/// <summary>One batch Qdrant acknowledged.</summary>
/// <param name="Summary">The write so far, this batch included.</param>
/// <param name="Records">Records in the batch.</param>
/// <param name="LastPosition">The source position of the batch's last record: reading again after it continues the migration.</param>
public sealed record QdrantBatchCommitted(QdrantWriteSummary Summary, int Records, string? LastPosition);

/// <summary>
/// Writes records into a Qdrant collection in upsert requests bounded by count and by bytes. On the first record it
/// looks at the collection: a missing one is created from the record's <see cref="SourceSchema"/>; an existing one
/// is checked against it and refused (<c>QdrantCollectionIncompatible</c>, every problem listed) before anything is
/// written. Each record is checked before any of it is sent; one that Qdrant could not take is refused
/// (<see cref="RecordRejectedException"/>) and the sink goes on. A batch Qdrant acknowledged stays; a batch that
/// fails after the transport's retries stops the sink (<c>QdrantBatchFailed</c>). Upserts replace points by id,
/// so running a failed migration again is safe. Call <see cref="FlushAsync"/> (or <see cref="CompleteAsync"/>) at
/// the end: disposing drops the open batch unsent.
/// </summary>
/// <remarks>
/// Ids: unsigned integers and UUIDs go as they are; other ids become UUIDv5 (<see cref="QdrantPointIds"/>) and the
/// original id is kept in the payload field <see cref="QdrantSinkOptions.OriginalIdField"/>; a record's namespace,
/// when it has one, goes into <see cref="QdrantSinkOptions.NamespaceField"/> and into the UUID, so one id in two
/// namespaces makes two points. Values: Qdrant normalizes the vectors of a Cosine space to unit length when it
/// stores them (docs/qdrant-target.md), so they read back scaled; every other value arrives bit for bit.
/// </remarks>
public sealed class QdrantSink : IRecordSink
{
    private readonly QdrantClient _client;
    private readonly QdrantSinkOptions _options;
    private readonly ILogger _logger;
    private readonly Stopwatch _clock = new();
    private readonly QdrantUpsertBody _body = new();
    private readonly QdrantPayloadFields _payloads = new();
    private Dictionary<string, Space>? _spaces;
    private bool _unnamed;
    private bool _failed;
    private string? _batchFirst;
    private string? _batchLast;
    private string? _lastPosition;
    private long _written;
    private long _rejected;
    private int _batches;

    private readonly record struct Space(VectorKind Kind, int Size);

    /// <param name="client">The Qdrant client (not disposed by the sink).</param>
    /// <param name="options">The collection and how to write to it.</param>
    /// <param name="logger">Log lines: the created collection, warnings, each batch (Debug).</param>
    public QdrantSink(QdrantClient client, QdrantSinkOptions options, ILogger? logger = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The collection as the sink found (or made) it, once the first record has fixed it.</summary>
    public QdrantTargetPlan? Plan { get; private set; }

    /// <summary>True when this sink created the collection.</summary>
    public bool CreatedCollection { get; private set; }

    /// <summary>Called after each batch Qdrant acknowledged, with the summary so far and the batch's last position.</summary>
    public Action<QdrantBatchCommitted>? BatchCommitted { get; init; }

    public QdrantWriteSummary Summary => new(_options.Collection, _written, _rejected, _batches, _clock.Elapsed);

    private string Target => $"{_client.Endpoint}/collections/{_options.Collection}";

    /// <summary>
    /// Works out what writing <paramref name="first"/> (and records like it) would do, changing nothing: the
    /// collection to create, or the existing one with its problems and warnings.
    /// </summary>
    public async Task<QdrantTargetPlan> PlanAsync(VectorRecord first, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(first);
        SourceSchema.RefuseRowLocations(first.Schema, Target);
        var info = await DescribeOrNullAsync(cancellationToken).ConfigureAwait(false);
        var schema = first.Schema ?? QdrantTargetPlan.SchemaOf(first);
        return info is null
            ? QdrantTargetPlan.ForNewCollection(_options.Collection, schema, first, _options.Distance, _options.SparseModifiers)
            : QdrantTargetPlan.ForExistingCollection(info, schema, _options.Distance);
    }

    /// <summary>
    /// Adds one record to the open batch (on the first record, preparing the collection), sending the batch when it
    /// is full. Throws <see cref="RecordRejectedException"/> for a record Qdrant could not take (nothing of it is
    /// sent; the sink goes on), and <see cref="VecMigrateException"/> when a batch fails (earlier batches stay; the
    /// sink cannot go on).
    /// </summary>
    public async ValueTask WriteAsync(VectorRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_failed) throw new InvalidOperationException("The Qdrant sink failed earlier and cannot go on.");
        _clock.Start();
        if (_spaces is null) await PrepareAsync(record, cancellationToken).ConfigureAwait(false);

        var mark = _body.Mark;
        try
        {
            Append(record);
        }
        catch (RecordRejectedException)
        {
            _rejected++;
            throw;
        }
        if (_body.Length > _options.MaxRequestBytes)
        {
            var point = _body.TakeBack(mark);
            var alone = point.Length + QdrantUpsertBody.EmptyLength;
            if (alone > _options.MaxRequestBytes)
            {
                _rejected++;
                throw Reject(record, "QdrantRecordTooLarge",
                    $"as a request it takes {alone:N0} bytes, more than the {_options.MaxRequestBytes:N0} allowed (Qdrant's service.max_request_size_mb)");
            }
            // It does not fit beside the others: send them, and start the next batch with it.
            await SendBatchAsync(cancellationToken).ConfigureAwait(false);
            _body.AppendRaw(point);
        }
        _batchFirst ??= record.ToString();
        _batchLast = record.ToString();
        _lastPosition = record.Position;
        if (_body.Count >= _options.BatchSize) await SendBatchAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends the open batch, if any.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_failed) return;
        if (_body.Count > 0) await SendBatchAsync(cancellationToken).ConfigureAwait(false);
        _clock.Stop();
    }

    /// <summary>Sends the open batch: the source was read to its end.</summary>
    public Task CompleteAsync(CancellationToken cancellationToken = default) => FlushAsync(cancellationToken);

    private async Task<QdrantCollectionInfo?> DescribeOrNullAsync(CancellationToken ct)
    {
        try
        {
            return await _client.GetCollectionAsync(_options.Collection, ct).ConfigureAwait(false);
        }
        catch (VecMigrateException ex) when (ex.ErrorId == "QdrantCollectionNotFound")
        {
            return null;
        }
    }

    private async Task PrepareAsync(VectorRecord first, CancellationToken ct)
    {
        var schema = first.Schema ?? QdrantTargetPlan.SchemaOf(first);
        var info = await DescribeOrNullAsync(ct).ConfigureAwait(false);
        if (info is null)
        {
            if (!_options.CreateCollection)
            {
                throw new VecMigrateException(FailureKind.NotFound, "QdrantCollectionNotFound",
                    $"The collection '{_options.Collection}' does not exist at {_client.Endpoint}, and creating it was not asked for.", Target);
            }
            var plan = QdrantTargetPlan.ForNewCollection(_options.Collection, schema, first, _options.Distance, _options.SparseModifiers);
            try
            {
                await _client.CreateCollectionAsync(_options.Collection, plan.Vectors, plan.SparseVectors, ct).ConfigureAwait(false);
                CreatedCollection = true;
                QdrantLog.CollectionCreated(_logger, _options.Collection, Describe(plan));
            }
            catch (VecMigrateException ex) when (ex.ErrorId == "QdrantBadRequest" && ex.Message.Contains("already exists", StringComparison.OrdinalIgnoreCase))
            {
                // Made by someone else between our look and our create: check it as an existing collection.
            }
            // Read back what Qdrant made: the checks below then hold for any collection, ours or not.
            info = await _client.GetCollectionAsync(_options.Collection, ct).ConfigureAwait(false);
        }

        var target = QdrantTargetPlan.ForExistingCollection(info, schema, _options.Distance);
        if (target.Problems.Count > 0)
        {
            throw new VecMigrateException(FailureKind.IncompatibleTarget, "QdrantCollectionIncompatible",
                $"The Qdrant collection '{_options.Collection}' cannot take the records of {schema.Source} '{schema.Name}': " +
                string.Join("; ", target.Problems) + ". Nothing was written.", Target);
        }
        foreach (var w in target.Warnings) QdrantLog.TargetWarning(_logger, _options.Collection, w);

        var spaces = new Dictionary<string, Space>(StringComparer.Ordinal);
        foreach (var v in info.Vectors) spaces[v.Name] = new Space(v.IsMultivector ? VectorKind.Multi : VectorKind.Dense, v.Size);
        foreach (var s in info.SparseVectors) spaces[s.Name] = new Space(VectorKind.Sparse, 0);
        _unnamed = info.HasUnnamedVector;
        _spaces = spaces;
        Plan = target;
    }

    private static string Describe(QdrantTargetPlan plan) => string.Join(", ",
        plan.Vectors.Select(v => $"{(v.Name.Length == 0 ? "(unnamed)" : v.Name)}: {(v.IsMultivector ? "multi " : "")}{v.Size} {v.DistanceName}")
            .Concat(plan.SparseVectors.Select(s => $"{s.Name}: sparse{(s.Modifier is null ? "" : " " + s.Modifier)}")));

    /// <summary>Checks the record against the collection and appends it to the body, or refuses it with nothing appended.</summary>
    private void Append(VectorRecord record)
    {
        var spaces = _spaces!;
        foreach (var (name, value) in record.Vectors)
        {
            var label = name.Length == 0 ? "the unnamed vector" : $"vector '{name}'";
            if (!spaces.TryGetValue(name, out var space))
            {
                throw Reject(record, "QdrantVectorNameUnknown",
                    $"the collection has no {(name.Length == 0 ? "unnamed vector" : $"vector '{name}'")} (it has {string.Join(", ", spaces.Keys.Select(k => k.Length == 0 ? "the unnamed vector" : $"'{k}'"))})");
            }
            if (space.Kind != value.Kind)
            {
                throw Reject(record, "QdrantVectorKindMismatch", $"{label} is {KindText(value.Kind)}, but the collection holds {KindText(space.Kind)} there");
            }
            switch (value)
            {
                case DenseVector d:
                    if (d.Values.Length != space.Size)
                        throw Reject(record, "QdrantVectorDimensionMismatch", $"{label} has {d.Values.Length} dimensions, the collection {space.Size}");
                    CheckFinite(record, label, d.Values);
                    break;
                case MultiVector m:
                    if (m.Vectors.Length == 0) throw Reject(record, "QdrantMultiVectorEmpty", $"{label} is a multivector without rows, and Qdrant needs at least one");
                    for (var i = 0; i < m.Vectors.Length; i++)
                    {
                        if (m.Vectors[i].Length != space.Size)
                            throw Reject(record, "QdrantVectorDimensionMismatch", $"row {i} of {label} has {m.Vectors[i].Length} dimensions, the collection {space.Size}");
                        CheckFinite(record, $"row {i} of {label}", m.Vectors[i]);
                    }
                    break;
                case SparseVector s:
                    CheckFinite(record, label, s.Values);
                    if (FindDuplicate(s.Indices) is { } dup) throw Reject(record, "QdrantSparseIndexDuplicate", $"{label} has index {dup} twice; Qdrant needs unique indices");
                    break;
            }
        }

        string? originalId = record.Id.Kind == PointIdKind.String ? record.Id.AsString : null;
        try
        {
            // First the id (and namespace): text with a lone surrogate has no UTF-8 form; hashing or writing it would
            // put U+FFFD in its place.
            if (record.Namespace is { } ns) QdrantPointIds.StrictUtf8.GetByteCount(ns);
            var id = QdrantPointIds.ToQdrant(record.Id, record.Namespace);
            var problem = _payloads.Prepare(record.Payload?.Utf8Json ?? default, _options.OriginalIdField, originalId, _options.NamespaceField, record.Namespace,
                out var payload);
            if (problem is { } p) throw Reject(record, p.ErrorId, p.Message);
            var bare = _unnamed && record.Vectors.Count == 1 && record.Vectors.ContainsKey(VectorRecord.DefaultVectorName);
            _body.AppendPoint(id, record.Vectors, bare, payload.Span);
        }
        catch (ArgumentException ex)
        {
            // Text that UTF-8 JSON cannot carry (an id or namespace with a lone surrogate); the body is left as it was.
            throw Reject(record, "QdrantRecordInvalid", ex.Message.TrimEnd('.'));
        }
    }

    private static string KindText(VectorKind kind) => kind switch
    {
        VectorKind.Dense => "a dense vector",
        VectorKind.Sparse => "a sparse vector",
        _ => "a multivector",
    };

    private void CheckFinite(VectorRecord record, string label, float[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw Reject(record, "QdrantVectorNotFinite",
                    $"{label} holds {values[i]} at position {i}; Qdrant's JSON carries only finite numbers");
            }
        }
    }

    private static uint? FindDuplicate(uint[] indices)
    {
        var ascending = true;
        for (var i = 1; i < indices.Length && ascending; i++) ascending = indices[i] > indices[i - 1];
        if (ascending) return null;
        var sorted = (uint[])indices.Clone();
        Array.Sort(sorted);
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i] == sorted[i - 1]) return sorted[i];
        }
        return null;
    }

    private RecordRejectedException Reject(VectorRecord record, string errorId, string why) =>
        new(errorId, $"Record {record} cannot be written to Qdrant collection '{_options.Collection}': {why}. It was skipped.", record);

    private async Task SendBatchAsync(CancellationToken ct)
    {
        var count = _body.Count;
        var bytes = _body.Length;
        var started = Stopwatch.GetTimestamp();
        try
        {
            await _client.UpsertAsync(_options.Collection, _body, _options.Wait,
                $"Upserting {count} points into Qdrant collection '{_options.Collection}'", ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is VecMigrateException or OperationCanceledException)
        {
            _failed = true;
            _clock.Stop();
            if (ex is OperationCanceledException) throw;
            var inner = (VecMigrateException)ex;
            var kind = inner.Kind is FailureKind.Unreachable or FailureKind.Timeout or FailureKind.Unauthorized ? inner.Kind : FailureKind.WriteFailed;
            throw new VecMigrateException(kind, "QdrantBatchFailed",
                $"Writing to Qdrant collection '{_options.Collection}' failed for the batch of {count} records with ids {_batchFirst} to {_batchLast}: {inner.Message} " +
                $"That batch may be written in part or not at all. The {_written} records of the {_batches} batches acknowledged before it stay; " +
                "upserts replace points by id, so running the migration again is safe.",
                Target, inner);
        }
        _written += count;
        _batches++;
        _body.Clear();
        var position = _lastPosition;
        _batchFirst = null;
        _batchLast = null;
        QdrantLog.BatchUpserted(_logger, count, bytes, _options.Collection, _written, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        BatchCommitted?.Invoke(new QdrantBatchCommitted(Summary, count, position));
        _acknowledged?.Invoke(new AcknowledgedBatch(count, position));
    }

    // ---------------------------------------------------------------- as a migration's sink

    private Action<AcknowledgedBatch>? _acknowledged;

    /// <summary>The endpoint and collection (the API key travels in a header, never here).</summary>
    string IRecordSink.Target => $"Qdrant {_client.Endpoint} collection '{_options.Collection}'";

    /// <summary>Upserts replace points by id: a batch written twice leaves the collection as once did.</summary>
    bool IRecordSink.Idempotent => true;

    event Action<AcknowledgedBatch>? IRecordSink.BatchAcknowledged
    {
        add => _acknowledged += value;
        remove => _acknowledged -= value;
    }

    /// <summary>
    /// After a failed batch: drops the open batch (the runner replays it from the last acknowledged record) and
    /// takes records again. The collection, once prepared, stays prepared; the transport opens new connections itself.
    /// </summary>
    Task IRecordSink.ReopenAsync(CancellationToken cancellationToken)
    {
        _body.Clear();
        _batchFirst = null;
        _batchLast = null;
        _lastPosition = null;
        _failed = false;
        return Task.CompletedTask;
    }

    /// <summary>Releases the buffers; an open batch that was not flushed is dropped unsent.</summary>
    public ValueTask DisposeAsync()
    {
        _body.Dispose();
        _payloads.Dispose();
        return ValueTask.CompletedTask;
    }
}
