using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Milvus;

/// <summary>Where and how a <see cref="MilvusSink"/> writes.</summary>
public sealed class MilvusSinkOptions
{
    public const int DefaultBatchSize = 1000;

    /// <summary>8 MB: well under the proxy's 64 MB message limit, so a batch never meets it.</summary>
    public const int DefaultMaxRequestBytes = 8 * 1024 * 1024;

    public const int MaxRequestBytesLimit = 64 * 1024 * 1024;

    public MilvusSinkOptions(string collection)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(collection);
        Collection = collection;
    }

    public string Collection { get; }

    /// <summary>Entities per upsert request, 1 to 10,000.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>The largest upsert body in bytes (1 KB to 64 MB).</summary>
    public int MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;

    /// <summary>Create a missing collection from the records' schema (false: it must exist).</summary>
    public bool CreateCollection { get; init; } = true;

    /// <summary>A created collection's partition key: a typed Int64 or VarChar field (not nullable there).</summary>
    public string? PartitionKey { get; init; }

    /// <summary>A created collection's number of shards; null for Milvus's default (1).</summary>
    public int? ShardsNum { get; init; }

    /// <summary>How long to wait for a created collection to load.</summary>
    public TimeSpan LoadTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Source field (payload key or typed column) → Milvus field name, in the collection created and in every row
    /// written (the guide's field renames; a type never changes). Keys not named keep their names.
    /// </summary>
    public IReadOnlyDictionary<string, string> Rename { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// A created collection gets no dynamic field: a payload key with no field of its own is then refused by record
    /// instead of kept in "$meta" (the guide's dynamic field is on by default).
    /// </summary>
    public bool NoDynamicField { get; init; }

    /// <summary>The Milvus field name for a source field or payload key.</summary>
    internal string FieldFor(string sourceName) => Rename.TryGetValue(sourceName, out var to) ? to : sourceName;

    internal void Validate()
    {
        if (BatchSize is < 1 or > 10_000) throw Invalid($"The batch size must be 1 to 10,000 (got {BatchSize}).");
        if (MaxRequestBytes is < 1024 or > MaxRequestBytesLimit) throw Invalid($"The request size must be 1,024 to {MaxRequestBytesLimit:N0} bytes (got {MaxRequestBytes}).");
        if (ShardsNum is < 1 or > 64) throw Invalid($"The number of shards must be 1 to 64 (got {ShardsNum}).");
        foreach (var (from, to) in Rename)
        {
            if (!MilvusTypeMap.FieldName().IsMatch(to))
                throw Invalid($"-Rename gives '{from}' the name '{to}', which is not a Milvus field name (letters, digits, _; not starting with a digit).");
        }
        var twice = Rename.GroupBy(p => p.Value, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw Invalid($"-Rename gives {string.Join(" and ", twice.Select(p => $"'{p.Key}'"))} the same name '{twice.Key}'.");
    }

    private VecMigrateException Invalid(string message) => new(FailureKind.InvalidArgument, MilvusErrorIds.InvalidArgument, message, Collection);
}

/// <summary>What a Milvus write did.</summary>
public sealed record MilvusWriteSummary(string Collection, long RecordsWritten, long RecordsRejected, int Batches, long BytesSent);

/// <summary>
/// Writes records into a Milvus collection with <c>entities/upsert</c> (upserts by key: a batch written again after
/// a resume leaves the collection as once did). On the first record the collection is described, or created from
/// the records' schema (docs/milvus.md's table), indexed by the source's metric and loaded; an existing one is
/// checked, and what cannot fit is refused before anything is written. Each record is checked against the
/// collection (ids, dimensions, NaN, VarChar lengths, field types, what Milvus would change) and serialized at once,
/// so that a bad one is rejected by name and the rest go on. Batches are bounded by count and bytes.
/// </summary>
public sealed class MilvusSink : IRecordSink
{
    private readonly MilvusClient _client;
    private readonly MilvusSinkOptions _options;
    private readonly ArrayBufferWriter<byte> _batch = new(64 * 1024);
    private readonly ArrayBufferWriter<byte> _row = new(8 * 1024);
    private WritePlan? _plan;
    private int _count;
    private string? _lastPosition;
    private long _written;
    private long _rejected;
    private long _bytes;
    private int _batches;
    private bool _failed;
    private Action<AcknowledgedBatch>? _acknowledged;

    public MilvusSink(MilvusClient client, MilvusSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options;
    }

    public MilvusWriteSummary Summary => new(_options.Collection, _written, _rejected, _batches, _bytes);

    /// <summary>The collection's fields as the write uses them, once the first record has fixed them.</summary>
    public string? PlanText => _plan?.ToString();

    public string Target => $"Milvus {_client.Endpoint} collection '{_options.Collection}'";

    /// <summary>
    /// Upserts by key are; inserts into an Auto ID key (records without keys) are not, so such a copy is never replayed:
    /// it goes into an empty collection in one run (see <see cref="WritePlan.Check"/>).
    /// </summary>
    public bool Idempotent => _plan is not { AutoId: true };

    event Action<AcknowledgedBatch>? IRecordSink.BatchAcknowledged { add => _acknowledged += value; remove => _acknowledged -= value; }

    public async ValueTask WriteAsync(VectorRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_failed) throw new InvalidOperationException("The Milvus sink failed earlier and cannot go on.");
        _plan ??= await PlanAsync(record, cancellationToken).ConfigureAwait(false);
        _row.ResetWrittenCount();
        try
        {
            using var w = new Utf8JsonWriter(_row);
            _plan.Encode(record, w);
        }
        catch (RecordRejectedException)
        {
            _rejected++;
            throw;
        }
        // {"collectionName":"…","data":[ … ]}: the envelope's bytes are counted in the limit too.
        if (_count > 0 && _batch.WrittenCount + 1 + _row.WrittenCount + 2 > _options.MaxRequestBytes) await SendAsync(cancellationToken).ConfigureAwait(false);
        if (_count == 0) Begin();
        else _batch.Write(","u8);
        _batch.Write(_row.WrittenSpan);
        _count++;
        _lastPosition = record.Position;
        if (_count >= _options.BatchSize) await SendAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Begin()
    {
        _batch.ResetWrittenCount();
        using var w = new Utf8JsonWriter(_batch);
        w.WriteStartObject();
        if (_client.Database is { } db) w.WriteString("dbName", db);
        w.WriteString("collectionName", _options.Collection);
        w.WritePropertyName("data");
        w.Flush();
        _batch.Write("["u8);
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_failed) return;
        if (_count > 0) await SendAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task CompleteAsync(CancellationToken cancellationToken = default) => FlushAsync(cancellationToken);

    Task IRecordSink.ReopenAsync(CancellationToken cancellationToken)
    {
        _count = 0;
        _lastPosition = null;
        _failed = false;
        return Task.CompletedTask;
    }

    private async Task SendAsync(CancellationToken ct)
    {
        _batch.Write("]}"u8);
        var count = _count;
        var size = _batch.WrittenCount;
        try
        {
            await _client.SendRowsAsync(_options.Collection, _batch.WrittenMemory, upsert: !_plan!.AutoId, count, ct).ConfigureAwait(false);
        }
        catch (VecMigrateException ex)
        {
            _failed = true;
            throw new VecMigrateException(ex.Kind, ex.Kind is FailureKind.Unreachable or FailureKind.Timeout or FailureKind.Unauthorized ? ex.ErrorId : MilvusErrorIds.WriteFailed,
                $"Upserting a batch of {count} entities into Milvus collection '{_options.Collection}' failed: {ex.Message} " +
                (_plan!.AutoId
                    ? $"The {_written:N0} entities acknowledged before it stay; the rows have no keys, so the copy cannot go on from there: drop the collection and copy again."
                    : $"The {_written:N0} entities acknowledged before it stay; upserts replace by key, so running the copy again is safe."), ex.Target, ex);
        }
        catch (OperationCanceledException)
        {
            _failed = true;
            throw;
        }
        _written += count;
        _bytes += size;
        _batches++;
        _count = 0;
        MilvusLog.BatchWritten(_client.Logger, count, size, _options.Collection, _written);
        _acknowledged?.Invoke(new AcknowledgedBatch(count, _lastPosition));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    // ------------------------------------------------------------------ planning

    private async Task<WritePlan> PlanAsync(VectorRecord first, CancellationToken ct)
    {
        var schema = first.Schema;
        var vectors = schema?.Vectors
            ?? first.Vectors.Select(kv => new VectorField(kv.Key, kv.Value.Kind, kv.Value.Kind == VectorKind.Sparse ? null : kv.Value.Length)).ToList();
        var idKinds = schema?.IdKinds ?? first.Id.Kind switch { PointIdKind.Unsigned => IdKinds.Unsigned, PointIdKind.Uuid => IdKinds.Uuid, _ => IdKinds.String };
        var info = await _client.DescribeCollectionAsync(_options.Collection, ct).ConfigureAwait(false);
        var rowLocations = schema?.RowLocations == true;
        if (info is null)
        {
            if (!_options.CreateCollection) throw _client.NotFound(_options.Collection);
            var create = CreatePlan.From(_options, vectors, idKinds, schema);
            try
            {
                await _client.CreateCollectionAsync(_options.Collection, create.Write, ct).ConfigureAwait(false);
                MilvusLog.Created(_client.Logger, _options.Collection, create.ToString());
            }
            catch (VecMigrateException)
            {
                // Another lane or worker of the same copy may have created it first: then it is checked below like any
                // existing one; else the refusal stands.
                if (await _client.DescribeCollectionAsync(_options.Collection, ct).ConfigureAwait(false) is null) throw;
            }
            await _client.EnsureLoadedAsync(_options.Collection, _options.LoadTimeout, ct).ConfigureAwait(false);
            info = await _client.DescribeCollectionAsync(_options.Collection, ct).ConfigureAwait(false) ?? throw _client.NotFound(_options.Collection);
        }
        // Rows without keys get Auto ID keys, by insert: only into an empty collection, or a second run would add them again.
        var rows = rowLocations ? (await _client.GetCollectionAsync(_options.Collection, ct).ConfigureAwait(false)).RowCount : null;
        return WritePlan.Check(info, vectors, idKinds, _client.Endpoint, _options, rowLocations, rows);
    }

    /// <summary>The collection a copy creates: key, vector fields, typed scalar fields, indexes, marker.</summary>
    private sealed class CreatePlan
    {
        private readonly List<Action<Utf8JsonWriter>> _fields = [];
        private readonly List<string> _text = [];
        private readonly List<(string Field, string Metric, bool Sparse)> _indexes = [];
        private MilvusMarker _marker = new(null, null, null);
        private MilvusSinkOptions _options = null!;
        private bool _autoId;

        public static CreatePlan From(MilvusSinkOptions options, IReadOnlyList<VectorField> vectors, IdKinds idKinds, SourceSchema? schema)
        {
            var p = new CreatePlan { _options = options };
            var problems = new List<string>();
            // The key is "id", unless a typed field of the source has that name (a composite key's column "id", say).
            var taken = (schema?.Fields ?? []).Select(f => options.FieldFor(f.Name)).Concat(vectors.Select(v => v.Name)).ToHashSet(StringComparer.Ordinal);
            var key = new[] { "id", "pk", "vecmigrate_id" }.First(n => !taken.Contains(n));
            var used = new HashSet<string>(StringComparer.Ordinal) { key };
            // Key: Int64 for unsigned ids, VarChar(36) for UUIDs, VarChar for strings or a mix (a mix cannot be kept exactly).
            // A composite key's records have ids made of its values (["a","1"]): a VarChar key, upserted like any other,
            // so the copy stays idempotent and resumable, where the guide's Auto ID would give new ids on every run.
            var ids = idKinds switch { IdKinds.Unsigned => "unsigned", IdKinds.Uuid => "uuid", _ => "string" };
            // Rows without keys (a table without a primary key): an Int64 Auto ID key, Milvus's ids for them (Zilliz's guide).
            p._autoId = schema?.RowLocations == true;
            if (p._autoId) ids = "unsigned";
            if (idKinds is IdKinds.Unsigned || p._autoId) p.Add(key, "Int64", isPrimary: true);
            else p.Add(key, "VarChar", isPrimary: true, maxLength: idKinds == IdKinds.Uuid ? 36 : MilvusTypeMap.TextLength);
            if ((idKinds & (idKinds - 1)) != 0 && !p._autoId)
                problems.Add($"the source's ids are of several kinds ({idKinds}); a Milvus key has one type (Int64 or VarChar)");

            string? unnamed = null;
            foreach (var v in vectors)
            {
                var field = v.Name.Length == 0 ? "vector" : v.Name;
                if (v.Name.Length == 0) unnamed = field;
                if (!MilvusTypeMap.FieldName().IsMatch(field)) { problems.Add($"vector '{v.Name}' has no valid Milvus field name (letters, digits, _; not starting with a digit)"); continue; }
                if (!used.Add(field)) { problems.Add($"vector field '{field}' clashes with another field"); continue; }
                switch (v.Kind)
                {
                    case VectorKind.Dense when v.Dimension is int d and >= 1 and <= MilvusClient.MaxDimension:
                        var metric = MilvusTypeMap.MetricType(v.Metric);
                        if (metric is null) { problems.Add($"vector '{field}' uses {v.Metric} distance, which Milvus's float vectors do not have (COSINE, L2, IP)"); continue; }
                        p.Add(field, "FloatVector", dim: d);
                        p._indexes.Add((field, metric, false));
                        break;
                    case VectorKind.Dense:
                        problems.Add($"vector '{field}' has dimension {v.Dimension?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}; Milvus takes 1 to {MilvusClient.MaxDimension:N0}");
                        break;
                    case VectorKind.Sparse:
                        p.Add(field, "SparseFloatVector");
                        p._indexes.Add((field, "IP", true));
                        break;
                    default:
                        problems.Add($"vector '{field}' is a multivector, which Milvus fields cannot hold");
                        break;
                }
            }
            string? nsField = null;
            if (schema?.HasNamespaces == true)
            {
                nsField = "namespace";
                if (!used.Add(nsField)) problems.Add("the namespace field clashes with a vector field");
                else p.Add(nsField, "VarChar", maxLength: MilvusTypeMap.TextLength);
            }
            var partitionFound = options.PartitionKey is null;
            foreach (var f in schema?.Fields ?? [])
            {
                var plan = schema!.Source == SourceKind.Milvus ? MilvusTypeMap.FromMilvus(f) : MilvusTypeMap.FromPostgres(f);
                var name = options.FieldFor(f.Name);
                if (plan is null || !MilvusTypeMap.FieldName().IsMatch(name))
                {
                    // Its values go to the dynamic field; without one, every row would be refused for it: say so once, now.
                    if (options.NoDynamicField)
                        problems.Add($"field '{f.Name}' ({f.SourceType}) has {(plan is null ? "no Milvus type" : "no valid Milvus field name")} and -NoDynamicField leaves its values nowhere to go (leave it out of the source, or {(plan is null ? "keep the dynamic field" : "rename it")})");
                    continue;
                }
                if (!used.Add(name))
                {
                    if (options.Rename.ContainsKey(f.Name)) problems.Add($"-Rename gives '{f.Name}' the name '{name}', which another field has");
                    continue;
                }
                var isPartition = name == options.PartitionKey;
                if (isPartition)
                {
                    partitionFound = true;
                    if (plan.DataType is not ("Int64" or "VarChar")) { problems.Add($"partition key '{name}' is {plan.DataType}; Milvus partition keys are Int64 or VarChar"); continue; }
                }
                p.Add(name, plan.DataType, nullable: plan.Nullable && !isPartition, maxLength: plan.MaxLength, elementType: plan.ElementType, partitionKey: isPartition);
            }
            if (!partitionFound) problems.Add($"partition key '{options.PartitionKey}' is not a typed field of the source (typed fields: {string.Join(", ", schema?.Fields?.Select(f => options.FieldFor(f.Name)) ?? [])})");
            if (problems.Count > 0)
            {
                throw new VecMigrateException(FailureKind.IncompatibleTarget, MilvusErrorIds.Incompatible,
                    $"Collection '{options.Collection}' cannot be created for these records: {string.Join("; ", problems)}. Nothing was written.", options.Collection);
            }
            p._marker = new MilvusMarker(ids, unnamed, nsField);
            return p;
        }

        private void Add(string name, string type, bool isPrimary = false, int? dim = null, int? maxLength = null, bool nullable = false,
            string? elementType = null, bool partitionKey = false)
        {
            _text.Add($"{name}:{type}{(isPrimary && _autoId ? " auto id" : "")}{(dim is { } d ? $"({d})" : maxLength is { } m ? $"({m})" : "")}{(elementType is null ? "" : $"<{elementType}>")}{(nullable ? "?" : "")}{(partitionKey ? " partition key" : "")}");
            _fields.Add(w =>
            {
                w.WriteStartObject();
                w.WriteString("fieldName", name);
                w.WriteString("dataType", type);
                if (isPrimary) w.WriteBoolean("isPrimary", true);
                if (partitionKey) w.WriteBoolean("isPartitionKey", true);
                if (nullable) w.WriteBoolean("nullable", true);
                if (elementType is not null) w.WriteString("elementDataType", elementType);
                w.WriteStartObject("elementTypeParams");
                if (dim is { } d) w.WriteString("dim", d.ToString(CultureInfo.InvariantCulture));
                if (maxLength is { } m) w.WriteString("max_length", m.ToString(CultureInfo.InvariantCulture));
                if (type == "Array") w.WriteString("max_capacity", MilvusTypeMap.ArrayCapacity.ToString(CultureInfo.InvariantCulture));
                w.WriteEndObject();
                w.WriteEndObject();
            });
        }

        public void Write(Utf8JsonWriter w)
        {
            w.WriteString("description", _marker.ToString());
            w.WriteStartObject("schema");
            w.WriteBoolean("autoID", _autoId);
            w.WriteBoolean("enableDynamicField", !_options.NoDynamicField);
            w.WriteStartArray("fields");
            foreach (var f in _fields) f(w);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("indexParams");
            foreach (var (field, metric, sparse) in _indexes)
            {
                w.WriteStartObject();
                w.WriteString("fieldName", field);
                w.WriteString("indexName", field + "_idx");
                w.WriteString("metricType", metric);
                w.WriteString("indexType", sparse ? "SPARSE_INVERTED_INDEX" : "AUTOINDEX");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (_options.ShardsNum is { } shards)
            {
                w.WriteStartObject("params");
                w.WriteNumber("shardsNum", shards);
                w.WriteEndObject();
            }
        }

        public override string ToString() => string.Join(", ", _text);
    }

    /// <summary>How records become rows of one collection, checked against it.</summary>
    private sealed class WritePlan
    {
        private readonly MilvusCollectionInfo _info;
        private readonly MilvusField _pk;
        private readonly Dictionary<string, MilvusField> _vectorByRecordName = new(StringComparer.Ordinal);
        private readonly Dictionary<string, MilvusField> _scalars = new(StringComparer.Ordinal);
        private readonly HashSet<string> _reserved = new(StringComparer.Ordinal) { "$meta" };
        private readonly string? _namespaceField;
        private readonly MilvusSinkOptions _options;

        private WritePlan(MilvusCollectionInfo info, MilvusField pk, string? namespaceField, MilvusSinkOptions options)
        {
            AutoId = pk.AutoId;
            _info = info;
            _pk = pk;
            _namespaceField = namespaceField;
            _options = options;
        }

        /// <summary>Whether the key is Auto ID: rows go in by insert, without their (row location) ids.</summary>
        public bool AutoId { get; }

        /// <param name="info">The collection as described.</param>
        /// <param name="vectors">The records' vector spaces.</param>
        /// <param name="idKinds">The records' id kinds.</param>
        /// <param name="endpoint">Milvus's url, for messages.</param>
        /// <param name="options">The write's options.</param>
        /// <param name="rowLocations">Whether the records have no keys (a table without a primary key): they need an Auto ID key.</param>
        /// <param name="rows">For such records, how many entities the collection holds already (get_stats).</param>
        public static WritePlan Check(MilvusCollectionInfo info, IReadOnlyList<VectorField> vectors, IdKinds idKinds, Uri endpoint, MilvusSinkOptions options,
            bool rowLocations = false, long? rows = null)
        {
            var problems = new List<string>();
            var pk = info.PrimaryField!;
            var marker = MilvusMarker.Parse(info.Description);
            var ns = marker.NamespaceField is { } nf && info.Fields.Any(f => f.Name == nf) ? nf : null;
            var plan = new WritePlan(info, pk, ns, options);
            if (rowLocations)
            {
                if (!pk.AutoId) problems.Add($"the records come from a table without a primary key, so they have no ids for its key '{pk.Name}' (an Auto ID key gives them new ones)");
                if (rows is > 0) problems.Add($"it holds {rows:N0} entities already, and the rows have no keys to tell them apart: a second copy would add them all again (drop the collection, or name another)");
            }
            else
            {
                if (pk.AutoId) problems.Add($"its key '{pk.Name}' is Auto ID, which would give the records new ids");
                if (pk.Type == "Int64" && (idKinds & ~IdKinds.Unsigned) != 0) problems.Add($"its key '{pk.Name}' is Int64 but the records' ids are {idKinds}");
                if (pk.Type == "VarChar" && (idKinds & IdKinds.Unsigned) != 0) problems.Add($"its key '{pk.Name}' is VarChar but the records' ids are unsigned integers (they would come back as strings)");
            }
            var vectorFields = info.Fields.Where(f => f.IsVector).ToList();
            var matched = new HashSet<string>(StringComparer.Ordinal);
            foreach (var v in vectors)
            {
                var field = v.Name.Length == 0
                    ? vectorFields.FirstOrDefault(f => f.Name == (marker.UnnamedVector ?? "vector")) ?? (vectorFields.Count == 1 ? vectorFields[0] : null)
                    : vectorFields.FirstOrDefault(f => f.Name == v.Name);
                var shown = v.Name.Length == 0 ? "the unnamed vector" : $"vector '{v.Name}'";
                if (field is null) { problems.Add($"it has no vector field for {shown} (fields: {string.Join(", ", vectorFields.Select(f => f.Name))})"); continue; }
                matched.Add(field.Name);
                if (v.Kind == VectorKind.Dense && field.Type != "FloatVector")
                    problems.Add($"{shown} is dense float32 but field '{field.Name}' is {field.Type}{(field.Type is "Float16Vector" or "BFloat16Vector" ? " (writing would round the values)" : "")}");
                else if (v.Kind == VectorKind.Sparse && field.Type != "SparseFloatVector")
                    problems.Add($"{shown} is sparse but field '{field.Name}' is {field.Type}");
                else if (v.Kind == VectorKind.Multi)
                    problems.Add($"{shown} is a multivector, which Milvus fields cannot hold");
                else if (v.Kind == VectorKind.Dense && v.Dimension is { } d && field.Dimension != d)
                    problems.Add($"{shown} has dimension {d} but field '{field.Name}' has {field.Dimension}");
                plan._vectorByRecordName[v.Name] = field;
            }
            foreach (var f in vectorFields.Where(f => !matched.Contains(f.Name) && !f.Nullable))
                problems.Add($"its vector field '{f.Name}' needs a value and the records have no vector for it");
            foreach (var f in info.Fields.Where(f => !f.PrimaryKey && !f.IsVector && f.Name != ns)) plan._scalars[f.Name] = f;
            foreach (var f in info.Fields) plan._reserved.Add(f.Name);
            if (problems.Count > 0)
            {
                throw new VecMigrateException(FailureKind.IncompatibleTarget, MilvusErrorIds.Incompatible,
                    $"Collection '{info.Name}' at {endpoint} cannot take these records: {string.Join("; ", problems)}. Nothing was written.", $"{endpoint}{info.Name}");
            }
            return plan;
        }

        public override string ToString() => _info.FieldSummary;

        public void Encode(VectorRecord r, Utf8JsonWriter w)
        {
            w.WriteStartObject();
            // Key (none for an Auto ID key: Milvus gives the row one)
            switch (AutoId ? (PointIdKind?)null : r.Id.Kind)
            {
                case null:
                    break;
                case PointIdKind.Unsigned when _pk.Type == "Int64":
                    if (r.Id.AsUnsigned > long.MaxValue)
                        throw Reject(r, MilvusErrorIds.IdOutOfRange, $"id {r.Id} is above 9223372036854775807, the largest Milvus Int64 key; such ids cannot be kept (write them into a VarChar-keyed collection as strings, or renumber them)");
                    w.WriteNumber(_pk.Name, (long)r.Id.AsUnsigned);
                    break;
                case PointIdKind.Uuid when _pk.Type == "VarChar":
                    w.WriteString(_pk.Name, r.Id.AsUuid.ToString("D"));
                    break;
                case PointIdKind.String when _pk.Type == "VarChar":
                    if (r.Id.AsString.Length == 0) throw Reject(r, MilvusErrorIds.IdTypeMismatch, "the id is empty");
                    CheckLength(r, _pk, r.Id.AsString, "id");
                    w.WriteString(_pk.Name, r.Id.AsString);
                    break;
                default:
                    throw Reject(r, MilvusErrorIds.IdTypeMismatch, $"its {r.Id.Kind} id does not fit key '{_pk.Name}' ({_pk.Type})");
            }
            // Vectors
            foreach (var (name, value) in r.Vectors)
            {
                if (!_vectorByRecordName.TryGetValue(name, out var field))
                    throw Reject(r, MilvusErrorIds.InvalidVector, $"vector '{name}' has no field in collection '{_info.Name}'");
                WriteVector(r, w, field, value);
            }
            foreach (var (name, field) in _vectorByRecordName)
            {
                if (r.Vectors.ContainsKey(name) || field.Nullable) continue;
                if (field.Type == "SparseFloatVector")
                {
                    // Milvus needs a value in every vector field; an empty sparse row stands for "none" and reads back as none.
                    w.WriteStartObject(field.Name);
                    w.WriteEndObject();
                    continue;
                }
                throw Reject(r, MilvusErrorIds.InvalidVector, $"it has no {(name.Length == 0 ? "unnamed vector" : $"vector '{name}'")} for field '{field.Name}'");
            }
            if (_namespaceField is not null) w.WriteString(_namespaceField, r.Namespace ?? "");
            else if (!string.IsNullOrEmpty(r.Namespace))
                throw Reject(r, MilvusErrorIds.InvalidValue, $"it is in namespace '{r.Namespace}', and collection '{_info.Name}' keeps no namespaces (it was made for records without them); the namespace would be lost");
            // Payload: typed fields, the rest to the dynamic field
            var seen = new HashSet<string>(StringComparer.Ordinal);
            if (r.Payload is { } payload)
            {
                using var doc = JsonDocument.Parse(payload.Utf8Json);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Reject(r, MilvusErrorIds.InvalidValue, "its payload is not a JSON object");
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    var name = _options.FieldFor(p.Name);
                    var shown = name == p.Name ? $"payload key '{p.Name}'" : $"payload key '{p.Name}' (renamed '{name}')";
                    if (_scalars.TryGetValue(name, out var f))
                    {
                        if (!seen.Add(name)) throw Reject(r, MilvusErrorIds.InvalidValue, $"{shown} gives field '{name}' a second value");
                        WriteScalar(r, w, f, p.Value);
                        continue;
                    }
                    if (_reserved.Contains(name)) throw Reject(r, MilvusErrorIds.InvalidValue, $"{shown} is the name of a field Milvus keeps apart (key, vector or reserved)");
                    if (!_info.EnableDynamicField) throw Reject(r, MilvusErrorIds.InvalidValue, $"{shown} has no field, and collection '{_info.Name}' has no dynamic field");
                    if (p.Value.ValueKind == JsonValueKind.Null) throw Reject(r, MilvusErrorIds.InvalidValue, $"{shown} is null, and Milvus drops null keys of the dynamic field (it would not come back)");
                    if (!SurvivesDynamic(p.Value, out var why)) throw Reject(r, MilvusErrorIds.InvalidValue, $"{shown}: {why}");
                    if (!seen.Add(name)) throw Reject(r, MilvusErrorIds.InvalidValue, $"{shown} gives key '{name}' a second value");
                    w.WritePropertyName(name);
                    p.Value.WriteTo(w);
                }
            }
            foreach (var f in _scalars.Values)
            {
                if (!seen.Contains(f.Name) && !f.Nullable) throw Reject(r, MilvusErrorIds.InvalidValue, $"it has no value for field '{f.Name}' ({f.Type}, not nullable)");
            }
            w.WriteEndObject();
        }

        private static void WriteVector(VectorRecord r, Utf8JsonWriter w, MilvusField field, VectorValue value)
        {
            switch (value)
            {
                case DenseVector d when field.Type == "FloatVector":
                    if (d.Values.Length != field.Dimension)
                        throw Reject(r, MilvusErrorIds.DimensionMismatch, $"vector for field '{field.Name}' has {d.Values.Length} dimensions; the field has {field.Dimension}");
                    w.WriteStartArray(field.Name);
                    for (var i = 0; i < d.Values.Length; i++)
                    {
                        var x = d.Values[i];
                        if (!float.IsFinite(x)) throw Reject(r, MilvusErrorIds.InvalidVector, $"vector for field '{field.Name}' has {x} at position {i}; Milvus takes finite numbers only");
                        w.WriteNumberValue(x);
                    }
                    w.WriteEndArray();
                    break;
                case SparseVector s when field.Type == "SparseFloatVector":
                    w.WriteStartObject(field.Name);
                    for (var i = 0; i < s.Indices.Length; i++)
                    {
                        if (!float.IsFinite(s.Values[i])) throw Reject(r, MilvusErrorIds.InvalidVector, $"sparse vector for field '{field.Name}' has {s.Values[i]} at index {s.Indices[i]}");
                        w.WriteNumber(s.Indices[i].ToString(CultureInfo.InvariantCulture), s.Values[i]);
                    }
                    w.WriteEndObject();
                    break;
                default:
                    throw Reject(r, MilvusErrorIds.InvalidVector, $"a {value.Kind} vector does not fit field '{field.Name}' ({field.Type})");
            }
        }

        private void WriteScalar(VectorRecord r, Utf8JsonWriter w, MilvusField f, JsonElement v)
        {
            if (v.ValueKind == JsonValueKind.Null)
            {
                if (!f.Nullable) throw Reject(r, MilvusErrorIds.InvalidValue, $"field '{f.Name}' ({f.Type}) is not nullable and the value is null");
                w.WriteNull(f.Name);
                return;
            }
            if (f.Type == "JSON")
            {
                w.WritePropertyName(f.Name);
                v.WriteTo(w);
                return;
            }
            if (f.Type == "Array")
            {
                if (v.ValueKind != JsonValueKind.Array) throw Reject(r, MilvusErrorIds.InvalidValue, $"field '{f.Name}' is an array and the value is {v.ValueKind}");
                var capacity = f.Params.TryGetValue("max_capacity", out var c) && int.TryParse(c, out var n) ? n : MilvusTypeMap.ArrayCapacity;
                if (v.GetArrayLength() > capacity) throw Reject(r, MilvusErrorIds.ValueTooLong, $"field '{f.Name}' holds at most {capacity} elements; the value has {v.GetArrayLength()}");
                foreach (var e in v.EnumerateArray()) CheckElement(r, f, f.ElementType ?? "", e);
                w.WritePropertyName(f.Name);
                v.WriteTo(w);
                return;
            }
            CheckElement(r, f, f.Type, v);
            w.WritePropertyName(f.Name);
            v.WriteTo(w);
        }

        private static void CheckElement(VectorRecord r, MilvusField f, string type, JsonElement v)
        {
            bool ok = type switch
            {
                "Bool" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
                "Int8" => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var a) && a is >= sbyte.MinValue and <= sbyte.MaxValue,
                "Int16" => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var b) && b is >= short.MinValue and <= short.MaxValue,
                "Int32" => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out _),
                "Int64" => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _),
                "Float" => v.ValueKind == JsonValueKind.Number && SurvivesFloat(v.GetRawText(), single: true),
                "Double" => v.ValueKind == JsonValueKind.Number && SurvivesFloat(v.GetRawText(), single: false),
                "VarChar" => v.ValueKind == JsonValueKind.String,
                _ => false,
            };
            if (!ok) throw Reject(r, MilvusErrorIds.InvalidValue, $"field '{f.Name}' ({type}) cannot hold {v.GetRawText()} unchanged");
            if (type == "VarChar") CheckLength(r, f, v.GetString()!, $"field '{f.Name}'");
        }

        private static void CheckLength(VectorRecord r, MilvusField f, string s, string what)
        {
            var max = f.MaxLength ?? MilvusClient.MaxVarCharLength;
            var bytes = Encoding.UTF8.GetByteCount(s);
            if (bytes > max) throw Reject(r, MilvusErrorIds.ValueTooLong, $"{what} is {bytes} bytes of UTF-8; VarChar field '{f.Name}' takes at most {max}");
        }

        /// <summary>Whether a number's text comes back equal after Milvus holds it as float32/float64 (a decimal compare of the round trip).</summary>
        private static bool SurvivesFloat(string raw, bool single)
        {
            if (!decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var exact))
                return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var dd) && double.IsFinite(dd)
                    && (single ? float.IsFinite((float)dd) && ((double)(float)dd).ToString("R", CultureInfo.InvariantCulture) == dd.ToString("R", CultureInfo.InvariantCulture) : true);
            var d = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
            var back = single ? ((float)d).ToString("R", CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture);
            return decimal.TryParse(back, NumberStyles.Float, CultureInfo.InvariantCulture, out var got) && got == exact;
        }

        /// <summary>
        /// The proxy parses the dynamic field with gjson (utils.go checkAndSetData): a top-level number without a
        /// point becomes int64 (an exponent or a value beyond int64 turns into 0), one with a point float64, and
        /// nested values float64. Values that would change are refused.
        /// </summary>
        private static bool SurvivesDynamic(JsonElement v, out string why, bool top = true)
        {
            why = "";
            switch (v.ValueKind)
            {
                case JsonValueKind.Number:
                {
                    var raw = v.GetRawText();
                    var integer = !raw.Contains('.') && !raw.Contains('e') && !raw.Contains('E');
                    if (top && !raw.Contains('.'))
                    {
                        if (!integer || !v.TryGetInt64(out _)) { why = $"{raw} would not survive Milvus's int64 parse of dynamic numbers"; return false; }
                        return true;
                    }
                    if (integer && v.TryGetInt64(out var n) && Math.Abs((double)n) <= 9007199254740992d) return true;
                    if (!SurvivesFloat(raw, single: false)) { why = $"{raw} would not survive Milvus's float64 parse of dynamic numbers"; return false; }
                    return true;
                }
                case JsonValueKind.Object:
                    foreach (var p in v.EnumerateObject()) if (!SurvivesDynamic(p.Value, out why, top: false)) return false;
                    return true;
                case JsonValueKind.Array:
                    foreach (var e in v.EnumerateArray()) if (!SurvivesDynamic(e, out why, top: false)) return false;
                    return true;
                default:
                    return true;
            }
        }

        private static RecordRejectedException Reject(VectorRecord r, string errorId, string why) =>
            new(errorId, $"Record {r} cannot go into Milvus: {why}.", r);
    }
}
