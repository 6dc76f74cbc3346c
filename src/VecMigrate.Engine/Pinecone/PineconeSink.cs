using System.Diagnostics;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pinecone;

/// <summary>Where and how a <see cref="PineconeSink"/> writes.</summary>
public sealed class PineconeSinkOptions
{
    /// <summary>The index name (described by the control plane unless <see cref="IndexHost"/> is given).</summary>
    public required string IndexName { get; init; }

    /// <summary>
    /// The index's data-plane host or url. When given, the control plane is not called; dimension, metric and
    /// vector type come from <c>describe_index_stats</c>.
    /// </summary>
    public string? IndexHost { get; init; }

    /// <summary>
    /// The namespace every record goes into (<c>""</c> for the default one); null writes each record into its own
    /// namespace (<see cref="VectorRecord.Namespace"/>; the default one for records without).
    /// </summary>
    public string? Namespace { get; init; }

    /// <summary>
    /// The record vector written as Pinecone's dense <c>values</c>. Null chooses the unnamed vector, or the only
    /// dense one. Naming a vector (this or <see cref="SparseVectorName"/>) leaves every vector not written behind;
    /// without a name, a record vector with no place in Pinecone is an error.
    /// </summary>
    public string? VectorName { get; init; }

    /// <summary>The record vector written as <c>sparseValues</c>. Null chooses the only sparse vector, where the index can use one.</summary>
    public string? SparseVectorName { get; init; }

    /// <summary>Records per upsert request, 1 to 1,000 (Pinecone's limit). A failed request is retried whole.</summary>
    public int BatchSize { get; init; } = PineconeClient.MaxUpsertVectors;

    /// <summary>The largest upsert request body in bytes: Pinecone's 2 MB unless lowered.</summary>
    public int MaxRequestBytes { get; init; } = PineconeClient.MaxUpsertBytes;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(IndexName)) throw Invalid("An index name is required.");
        if (BatchSize is < 1 or > PineconeClient.MaxUpsertVectors)
        {
            throw Invalid($"The batch size must be 1 to {PineconeClient.MaxUpsertVectors:N0} (got {BatchSize}); Pinecone takes at most {PineconeClient.MaxUpsertVectors:N0} records an upsert.");
        }
        if (MaxRequestBytes is < 1024 or > PineconeClient.MaxUpsertBytes)
        {
            throw Invalid($"The request size must be 1,024 to {PineconeClient.MaxUpsertBytes:N0} bytes (got {MaxRequestBytes}); Pinecone takes at most 2 MB a request.");
        }
    }

    private VecMigrateException Invalid(string message) =>
        new(FailureKind.InvalidArgument, PineconeErrorIds.InvalidArgument, message, IndexName);
}

/// <summary>What a Pinecone write did.</summary>
public sealed record PineconeWriteSummary(string Index, long RecordsWritten, long RecordsRejected, int BatchesCommitted, long BytesSent, TimeSpan Elapsed)
{
    public double RecordsPerSecond => Elapsed.TotalSeconds > 0 ? RecordsWritten / Elapsed.TotalSeconds : 0;
}

/// <summary>One upsert request that Pinecone acknowledged.</summary>
/// <param name="Namespace">The namespace it went into ("" for the default one).</param>
/// <param name="Count">Records in it.</param>
/// <param name="Bytes">Its body size.</param>
/// <param name="FirstId">Its first record's Pinecone id.</param>
/// <param name="LastId">Its last record's Pinecone id.</param>
/// <param name="LastPosition">
/// The <see cref="VectorRecord.Position"/> of its last record: every record the source yielded up to there is
/// now written or was rejected, so a read resumed after it loses nothing.
/// </param>
/// <param name="Summary">The write so far.</param>
public sealed record PineconeBatchCommitted(string Namespace, int Count, long Bytes, string FirstId, string LastId, string? LastPosition, PineconeWriteSummary Summary);

/// <summary>
/// Writes records into a Pinecone index with <c>POST /vectors/upsert</c>. On the first record the index is
/// described and the records' vectors are matched to it (<see cref="PineconeWritePlan"/>) before anything is
/// sent. Each record is checked against Pinecone's limits and serialized at once, so that a record Pinecone
/// would refuse or change is rejected (<see cref="RecordRejectedException"/>, nothing of it sent) and the sink
/// goes on. Records gather into one request of at most <see cref="PineconeSinkOptions.BatchSize"/> records and
/// <see cref="PineconeSinkOptions.MaxRequestBytes"/> bytes, one namespace each (a change of namespace sends the
/// open request). 429 and 5xx answers are retried by the transport; a request that still fails stops the sink
/// with a <see cref="VecMigrateException"/>; the requests acknowledged before it stay (upserts are idempotent,
/// so a rerun is safe). Call <see cref="FlushAsync"/> or <see cref="CompleteAsync"/> at the end: disposing
/// without it sends nothing more.
/// </summary>
public sealed class PineconeSink : IRecordSink
{
    private readonly PineconeClient _client;
    private readonly PineconeSinkOptions _options;
    private readonly Stopwatch _clock = new();
    private readonly PineconeUpsertBody _body = new();
    private PineconeRecordEncoder? _encoder;
    private string _batchFirst = "";
    private string _batchLast = "";
    private string? _lastPosition;
    private long _written;
    private long _rejected;
    private long _bytes;
    private int _batches;
    private bool _failed;
    private bool _disposed;

    public PineconeSink(PineconeClient client, PineconeSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options;
    }

    /// <summary>The index and vector choice, once the first record has fixed them.</summary>
    public PineconeWritePlan? Plan { get; private set; }

    /// <summary>Called after each upsert request Pinecone acknowledged (for progress, and checkpoints at <see cref="PineconeBatchCommitted.LastPosition"/>).</summary>
    public Action<PineconeBatchCommitted>? BatchCommitted { get; init; }

    public PineconeWriteSummary Summary => new(_options.IndexName, _written, _rejected, _batches, _bytes, _clock.Elapsed);

    /// <summary>
    /// Describes the index and works out what writing <paramref name="first"/> (and records like it) would do,
    /// without sending any record. Throws as <see cref="WriteAsync"/> would on the first record.
    /// </summary>
    public async Task<PineconeWritePlan> PlanAsync(VectorRecord first, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(first);
        SourceSchema.RefuseRowLocations(first.Schema, ((IRecordSink)this).Target);
        var fields = FieldsOf(first);
        var (index, url) = await DescribeAsync(fields, cancellationToken).ConfigureAwait(false);
        return PineconeWritePlan.Choose(index, url, fields, _options.VectorName, _options.SparseVectorName);
    }

    /// <summary>
    /// Adds one record to the open request (sending the open request first when this record would not fit it,
    /// or goes to another namespace; sending it after when it is full). Throws <see cref="RecordRejectedException"/>
    /// for a record that cannot be written unchanged (nothing of it is sent; the sink goes on), and
    /// <see cref="VecMigrateException"/> when a request fails (the sink cannot go on).
    /// </summary>
    public async ValueTask WriteAsync(VectorRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failed) throw new InvalidOperationException("The Pinecone sink failed earlier and cannot go on.");
        if (Plan is null)
        {
            _clock.Start();
            Plan = await PlanAsync(record, cancellationToken).ConfigureAwait(false);
            _encoder = new PineconeRecordEncoder(Plan, _options.MaxRequestBytes);
            PineconeLog.WritePlanned(_client.Logger, Plan.IndexName, Plan.IndexUrl.AbsoluteUri, Plan.VectorType, Plan.Dimension, Plan.Metric,
                Plan.DenseVector ?? "(none)", Plan.SparseVector ?? "(none)");
            if (Plan.LeftBehind.Count > 0) PineconeLog.VectorsLeftBehind(_client.Logger, string.Join(", ", Plan.LeftBehind.Select(n => $"'{n}'")), Plan.IndexName);
            WarnOnMetric(record);
        }

        var ns = PineconeNamespace.Normalize(_options.Namespace ?? record.Namespace);
        var encoder = _encoder!;
        try
        {
            encoder.Encode(record, ns);
        }
        catch (RecordRejectedException)
        {
            _rejected++;
            throw;
        }

        if (_body.Count > 0 && (!string.Equals(ns, _body.Namespace, StringComparison.Ordinal) || _body.LengthWith(encoder.Json.Length) > _options.MaxRequestBytes))
        {
            await SendAsync(cancellationToken).ConfigureAwait(false);
        }
        if (_body.Count == 0)
        {
            _body.Begin(ns);
            _batchFirst = encoder.Id;
        }
        _body.Append(encoder.Json);
        _batchLast = encoder.Id;
        _lastPosition = record.Position;
        if (_body.Count >= _options.BatchSize) await SendAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends the open request, if any.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failed) return;
        if (_body.Count > 0) await SendAsync(cancellationToken).ConfigureAwait(false);
        _clock.Stop();
    }

    /// <summary>Sends the open request: the source was read to its end.</summary>
    public Task CompleteAsync(CancellationToken cancellationToken = default) => FlushAsync(cancellationToken);

    private static IReadOnlyList<VectorField> FieldsOf(VectorRecord first) =>
        first.Schema?.Vectors
        ?? first.Vectors.Select(kv => new VectorField(kv.Key, kv.Value.Kind, kv.Value.Kind == VectorKind.Sparse ? null : kv.Value.Length)).ToList();

    private async Task<(PineconeIndexModel Index, Uri Url)> DescribeAsync(IReadOnlyList<VectorField> fields, CancellationToken ct)
    {
        if (_options.IndexHost is { Length: > 0 } host)
        {
            var url = _client.IndexUrl(host);
            var stats = await _client.DescribeIndexStatsAsync(url, ct).ConfigureAwait(false);
            var vectorType = stats.VectorType ?? (stats.Dimension is null ? "sparse" : "dense");
            var metric = stats.Metric ?? (vectorType == "sparse" ? "dotproduct" : "");
            return (new PineconeIndexModel(_options.IndexName, host, stats.Dimension, metric, vectorType, PineconeDeployment.Unknown, true, ""), url);
        }
        try
        {
            var model = await _client.DescribeIndexAsync(_options.IndexName, ct).ConfigureAwait(false);
            return (model, _client.IndexUrl(model.Host));
        }
        catch (VecMigrateException ex) when (ex.ErrorId == PineconeErrorIds.IndexNotFound)
        {
            throw new VecMigrateException(ex.Kind, ex.ErrorId, $"{ex.Message} {PineconeWritePlan.CreateAdvice(fields, _options.VectorName)}", ex.Target, ex);
        }
    }

    private void WarnOnMetric(VectorRecord first)
    {
        var plan = Plan!;
        if (plan.DenseVector is null || first.Schema?.FindVector(plan.DenseVector) is not { } field) return;
        var metric = PineconeWritePlan.PineconeMetric(field.Metric);
        if (metric is not null && !string.Equals(metric, plan.Metric, StringComparison.OrdinalIgnoreCase))
        {
            // The vectors arrive unchanged; only what a query ranks first differs.
            PineconeLog.MetricDiffers(_client.Logger, plan.IndexName, plan.Metric, field.Metric.ToString());
        }
    }

    private async Task SendAsync(CancellationToken ct)
    {
        var plan = Plan!;
        var count = _body.Count;
        var ns = _body.Namespace;
        var body = _body.Finish();
        try
        {
            await _client.SendUpsertAsync(plan.IndexUrl, ns, body, count, ct).ConfigureAwait(false);
        }
        catch (VecMigrateException ex)
        {
            _failed = true;
            throw new VecMigrateException(ex.Kind, PineconeErrorIds.UpsertFailed,
                $"Upserting into Pinecone index '{plan.IndexName}', namespace '{ns}', failed for the batch of {count} records with ids '{_batchFirst}' to '{_batchLast}': {ex.Message} " +
                $"The {_written:N0} records in {_batches:N0} batches acknowledged before it stay in the index; upserts are idempotent, so running the migration again is safe.",
                $"{plan.IndexName}/{ns}", ex);
        }
        catch (OperationCanceledException)
        {
            // Whether Pinecone applied the request is unknown: nothing after it can be vouched for.
            _failed = true;
            throw;
        }
        _written += count;
        _batches++;
        _bytes += body.Length;
        _body.Begin(ns);
        PineconeLog.BatchUpserted(_client.Logger, count, body.Length, plan.IndexName, ns, _written);
        BatchCommitted?.Invoke(new PineconeBatchCommitted(ns, count, body.Length, _batchFirst, _batchLast, _lastPosition, Summary));
        _acknowledged?.Invoke(new AcknowledgedBatch(count, _lastPosition));
    }

    // ---------------------------------------------------------------- as a migration's sink

    private Action<AcknowledgedBatch>? _acknowledged;

    /// <summary>The index (by name, or by host when given); the API key travels in a header, never here.</summary>
    string IRecordSink.Target => _options.IndexHost is { Length: > 0 } host
        ? $"Pinecone index '{_options.IndexName}' at {host}"
        : $"Pinecone index '{_options.IndexName}'";

    /// <summary>Upserts replace vectors by id: a batch written twice leaves the index as once did.</summary>
    bool IRecordSink.Idempotent => true;

    event Action<AcknowledgedBatch>? IRecordSink.BatchAcknowledged
    {
        add => _acknowledged += value;
        remove => _acknowledged -= value;
    }

    /// <summary>After a failed request: drops the open request (the runner replays it from the last acknowledged record) and takes records again.</summary>
    Task IRecordSink.ReopenAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _body.Begin(_body.Namespace);
        _batchFirst = "";
        _batchLast = "";
        _lastPosition = null;
        _failed = false;
        return Task.CompletedTask;
    }

    /// <summary>Drops an open request that was not flushed and returns the pooled buffers.</summary>
    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _encoder?.Dispose();
            _body.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
