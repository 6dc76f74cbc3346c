using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Milvus;

/// <summary>What a <see cref="MilvusSource"/> reads.</summary>
public sealed class MilvusReadOptions
{
    public const int DefaultPageSize = 1000;

    public MilvusReadOptions(string collection)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(collection);
        Collection = collection;
    }

    public string Collection { get; }

    /// <summary>Entities per query, 1 to 16,384 (Milvus's query window).</summary>
    public int PageSize { get; init; } = DefaultPageSize;

    /// <summary>A Milvus boolean expression on the entities (e.g. <c>tenant == "acme"</c>); null for all of them.</summary>
    public string? Filter { get; init; }

    /// <summary>A record's <see cref="VectorRecord.Position"/> (its primary key): the read yields the entities after it.</summary>
    public string? StartAfter { get; init; }

    /// <summary>
    /// One partition of a split read: the keys after <c>After</c> up to and including <c>UpTo</c> (each a key as a
    /// position; null for no bound), as JSON (<see cref="MilvusSource.SplitAsync"/>); null for the whole collection.
    /// </summary>
    public string? Range { get; init; }

    internal MilvusReadOptions WithStartAfter(string? position) => new(Collection) { PageSize = PageSize, Filter = Filter, StartAfter = position, Range = Range };
}

/// <summary>
/// Reads a whole Milvus collection, every partition, with keyset pagination on the primary key: each page is a
/// <c>query</c> with <c>pk &gt; last</c> and a limit, so no offset is ever used and Milvus's 16,384 window never
/// binds (pymilvus's QueryIterator reads the same way). The next page is fetched while the caller works through
/// the current one, so memory holds two pages. Scalar fields and the dynamic field's keys become the payload;
/// vector fields become the record's vectors (one field: the unnamed vector; several: named by field).
/// </summary>
public sealed class MilvusSource
{
    private readonly MilvusClient _client;
    private readonly ILogger _logger;

    public MilvusSource(MilvusClient client, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>A Milvus collection for a <see cref="Migration"/>, in primary-key order.</summary>
    public static MigrationSource AsMigrationSource(MilvusClient client, MilvusReadOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        var d = new StringBuilder($"Milvus {client.Endpoint} collection '{options.Collection}'");
        if (client.Database is { } db) d.Append(" database '").Append(db).Append('\'');
        if (options.Filter is { } f) d.Append(" filter #").Append(SourceIdentity.Digest(f));
        if (options.Range is { } range) d.Append(" keys ").Append(PositionRange.Parse(range).Describe());
        var source = new MilvusSource(client, logger);
        return new MigrationSource(d.ToString(), after => source.ReadAsync(options.WithStartAfter(after)))
        {
            Search = (query, ct) => source.SearchAsync(options, query, ct),
            Fetch = (keys, ct) => source.FetchAsync(options, keys, ct),
            Split = (n, ct) => source.SplitAsync(options, n, ct),
            Narrow = bounds => AsMigrationSource(client, new MilvusReadOptions(options.Collection)
            {
                PageSize = options.PageSize, Filter = options.Filter, Range = PositionRange.Parse(bounds).ToString(),
            }, logger),
        };
    }

    /// <summary>
    /// Splits the collection into <paramref name="count"/> key ranges that hold every entity exactly once: the keys are
    /// walked in order, key only (pages of 16,384, the window's most; no vectors), and every n-th of the count
    /// get_stats gives becomes a bound. Ranges are (after, upTo]; the first has no lower bound and the last no upper
    /// one, so entities added meanwhile still fall in exactly one. Keys compare as Milvus compares them (Int64
    /// numerically, VarChar by UTF-8 bytes), as the keyset read does.
    /// </summary>
    public async Task<IReadOnlyList<string>> SplitAsync(MilvusReadOptions options, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (count < 1) throw new VecMigrateException(FailureKind.InvalidArgument, MilvusErrorIds.InvalidArgument, $"A collection is split into at least one partition (got {count}).");
        if (count == 1) return [new PositionRange(null, null).ToString()];
        var plan = await PlanAsync(options.Collection, cancellationToken).ConfigureAwait(false);
        var total = (await _client.GetCollectionAsync(options.Collection, cancellationToken).ConfigureAwait(false)).RowCount ?? 0;
        return await PositionRange.CutAsync(KeysAsync(plan, options, cancellationToken), total, count, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every key of the read in order, the keys alone (pages of 16,384, no vectors).</summary>
    private async IAsyncEnumerable<string> KeysAsync(ReadPlan plan, MilvusReadOptions options, [EnumeratorCancellation] CancellationToken ct)
    {
        object? after = null;
        while (true)
        {
            var filter = after is null ? "" : $"{plan.Pk.Name} > {plan.Literal(after)}";
            if (!string.IsNullOrWhiteSpace(options.Filter)) filter = filter.Length == 0 ? options.Filter! : $"({filter}) and ({options.Filter})";
            using var doc = await _client.QueryAsync(options.Collection, filter, [plan.Pk.Name], MilvusClient.MaxQueryWindow, ct).ConfigureAwait(false);
            var keys = doc.RootElement.GetProperty("data").EnumerateArray()
                .Select(row => plan.ParsePosition(plan.PositionOf(row.GetProperty(plan.Pk.Name)))).ToList();
            keys.Sort((x, y) => plan.ComparePosition(plan.PositionText(x), y));
            foreach (var key in keys) yield return plan.PositionText(key);
            if (keys.Count < MilvusClient.MaxQueryWindow) yield break;
            after = keys[^1];
        }
    }

    /// <summary>The entities with these keys (<c>pk in [...]</c> with the read's own filter), those that exist.</summary>
    public async IAsyncEnumerable<VectorRecord> FetchAsync(MilvusReadOptions options, IReadOnlyList<VectorRecord> keys,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(keys);
        var plan = await PlanAsync(options.Collection, cancellationToken).ConfigureAwait(false);
        var literals = new List<string>(keys.Count);
        foreach (var k in keys)
        {
            switch (k.Id.Kind)
            {
                case PointIdKind.Unsigned when plan.IsInt && k.Id.AsUnsigned <= long.MaxValue:
                    literals.Add(plan.Literal((long)k.Id.AsUnsigned));
                    break;
                case PointIdKind.Uuid when !plan.IsInt:
                    literals.Add(plan.Literal(k.Id.AsUuid.ToString("D")));
                    break;
                case PointIdKind.String when !plan.IsInt:
                    literals.Add(plan.Literal(k.Id.AsString));
                    break;
            }
        }
        if (literals.Count == 0) yield break;
        var filter = $"{plan.Pk.Name} in [{string.Join(", ", literals)}]";
        if (!string.IsNullOrWhiteSpace(options.Filter)) filter = $"({filter}) and ({options.Filter})";
        var byKeys = new MilvusReadOptions(options.Collection) { PageSize = Math.Min(MilvusClient.MaxQueryWindow, Math.Max(1, literals.Count)), Filter = filter };
        await foreach (var r in ReadAsync(byKeys, cancellationToken).ConfigureAwait(false)) yield return r;
    }

    /// <summary>
    /// A dense query through Milvus's search, in the vector field's index metric: COSINE similarity and IP products as
    /// Milvus gives them, L2's squared distance rooted (<see cref="VectorSearch"/>). A query with a namespace is narrowed
    /// to it where the collection keeps namespaces (a copy from Pinecone). Milvus searches its index (AUTOINDEX): there
    /// is no exact mode to ask for.
    /// </summary>
    public async Task<SearchAnswer> SearchAsync(MilvusReadOptions options, SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(query);
        var plan = await PlanAsync(options.Collection, cancellationToken).ConfigureAwait(false);
        var field = plan.VectorNamed(query.Vector) ?? throw new VecMigrateException(FailureKind.InvalidArgument, MilvusErrorIds.InvalidArgument,
            $"Collection '{options.Collection}' has no dense vector '{query.Vector}' to search.", options.Collection);
        var filter = options.Filter ?? "";
        if (query.Namespace is { } ns)
        {
            if (plan.NamespaceField is { } nf) filter = (filter.Length == 0 ? "" : $"({filter}) and ") + $"{nf} == {MilvusTypeMap.StringLiteral(ns)}";
            else if (ns.Length > 0)
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, MilvusErrorIds.InvalidArgument,
                    $"Collection '{options.Collection}' keeps no namespaces, so it cannot be searched within namespace '{ns}'.", options.Collection);
            }
        }
        var metricName = plan.MetricOf(field);
        var metric = MilvusTypeMap.Metric(metricName);
        using var doc = await _client.SearchAsync(options.Collection, field.Name, query.Values, query.TopK, filter, [plan.Pk.Name], cancellationToken).ConfigureAwait(false);
        var hits = new List<SearchHit>();
        foreach (var row in doc.RootElement.GetProperty("data").EnumerateArray())
        {
            if (!row.TryGetProperty(plan.Pk.Name, out var key) && !row.TryGetProperty("id", out key)) throw plan.Bad("a search hit without its key");
            if (!row.TryGetProperty("distance", out var d) || d.ValueKind != JsonValueKind.Number) throw plan.Bad("a search hit without its distance");
            var record = new VectorRecord(plan.IdOf(key), new Dictionary<string, VectorValue>(), null)
            {
                Namespace = plan.NamespaceField is not null ? query.Namespace : null,
            };
            var score = d.GetDouble();
            hits.Add(new SearchHit(record, metric == DistanceMetric.Euclid ? Math.Sqrt(Math.Max(0, score)) : score));
        }
        return new SearchAnswer(metric, hits, $"Milvus search ({metricName ?? "no"} index; no exact mode)");
    }

    /// <summary>The collection's layout as records will show it (ids, vectors, payload fields).</summary>
    public async Task<SourceSchema> DescribeAsync(string collection, CancellationToken cancellationToken = default) =>
        (await PlanAsync(collection, cancellationToken).ConfigureAwait(false)).Schema;

    public async IAsyncEnumerable<VectorRecord> ReadAsync(MilvusReadOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.PageSize is < 1 or > MilvusClient.MaxQueryWindow)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, MilvusErrorIds.InvalidArgument,
                $"The page size must be 1 to {MilvusClient.MaxQueryWindow:N0} (Milvus's query window); got {options.PageSize}.", options.Collection);
        }
        var plan = await PlanAsync(options.Collection, cancellationToken).ConfigureAwait(false);
        var origin = new RecordOrigin(SourceKind.Milvus, _client.Endpoint.ToString(), options.Collection);
        var after = options.StartAfter is null ? null : plan.ParsePosition(options.StartAfter);
        var pending = ReadPageAsync(plan, options, after, origin, cancellationToken);
        while (true)
        {
            var page = await pending.ConfigureAwait(false);
            if (page.Count == 0) yield break;
            var more = page.Count == options.PageSize;
            pending = more ? ReadPageAsync(plan, options, plan.ParsePosition(page[^1].Position!), origin, cancellationToken) : Task.FromResult(new List<VectorRecord>());
            foreach (var r in page) yield return r;
            if (!more) yield break;
        }
    }

    private async Task<List<VectorRecord>> ReadPageAsync(ReadPlan plan, MilvusReadOptions options, object? after, RecordOrigin origin, CancellationToken ct)
    {
        var range = options.Range is { } rangeText ? PositionRange.Parse(rangeText) : null;
        if (range is { IsEmpty: true }) return [];
        // A partition starts after its lower bound (a resumed one after its checkpoint, always past that bound).
        after ??= range?.After is { } lowest ? plan.ParsePosition(lowest) : null;
        var filter = after is null ? "" : $"{plan.Pk.Name} > {plan.Literal(after)}";
        if (range?.UpTo is { } upTo) filter = (filter.Length == 0 ? "" : filter + " and ") + $"{plan.Pk.Name} <= {plan.Literal(plan.ParsePosition(upTo))}";
        if (!string.IsNullOrWhiteSpace(options.Filter)) filter = filter.Length == 0 ? options.Filter! : $"({filter}) and ({options.Filter})";
        using var doc = await _client.QueryAsync(options.Collection, filter, plan.OutputFields, options.PageSize, ct).ConfigureAwait(false);
        var rows = doc.RootElement.GetProperty("data");
        var page = new List<VectorRecord>(rows.GetArrayLength());
        foreach (var row in rows.EnumerateArray()) page.Add(plan.ToRecord(row, origin));
        // Milvus merges query results in primary-key order; sorting the page keeps the keyset exact even if a server did not.
        page.Sort(plan.Compare);
        if (after is not null && page.Count > 0 && plan.ComparePosition(page[0].Position!, after) <= 0)
        {
            throw new VecMigrateException(FailureKind.InvalidResponse, MilvusErrorIds.InvalidResponse,
                $"Milvus answered a query for '{options.Collection}' with {plan.Pk.Name} = {page[0].Position}, not after {after}: keyset reading cannot go on.", options.Collection);
        }
        MilvusLog.PageRead(_logger, page.Count, options.Collection, after?.ToString() ?? "(start)");
        return page;
    }

    private async Task<ReadPlan> PlanAsync(string collection, CancellationToken ct)
    {
        var info = await _client.DescribeCollectionAsync(collection, ct).ConfigureAwait(false) ?? throw _client.NotFound(collection);
        if (!info.Loaded)
        {
            throw new VecMigrateException(FailureKind.MissingPrerequisite, MilvusErrorIds.CollectionNotLoaded,
                $"Collection '{collection}' at {_client.Endpoint} is not loaded (state {(info.LoadState.Length == 0 ? "unknown" : info.LoadState)}), so Milvus cannot query it. " +
                "Load it first (POST /v2/vectordb/collections/load, or load_collection in pymilvus) and read again.", $"{_client.Endpoint}{collection}");
        }
        return new ReadPlan(info);
    }

    /// <summary>How a collection's rows become records.</summary>
    private sealed class ReadPlan
    {
        private readonly MilvusCollectionInfo _info;
        private readonly MilvusMarker _marker;
        private readonly List<(MilvusField Field, string Name)> _vectors = [];
        private readonly HashSet<string> _vectorFields = new(StringComparer.Ordinal);
        private readonly Dictionary<string, MilvusField> _scalars = new(StringComparer.Ordinal);
        private readonly string? _namespaceField;

        public ReadPlan(MilvusCollectionInfo info)
        {
            _info = info;
            _marker = MilvusMarker.Parse(info.Description);
            Pk = info.PrimaryField ?? throw new VecMigrateException(FailureKind.InvalidResponse, MilvusErrorIds.InvalidResponse,
                $"Collection '{info.Name}' has no primary key field in its description.", info.Name);
            if (Pk.Type is not ("Int64" or "VarChar"))
            {
                throw new VecMigrateException(FailureKind.InvalidResponse, MilvusErrorIds.FieldUnsupported,
                    $"Collection '{info.Name}' has a primary key of type {Pk.Type}; Milvus keys are Int64 or VarChar.", info.Name);
            }
            IsInt = Pk.Type == "Int64";
            _namespaceField = _marker.NamespaceField is { } nf && info.Fields.Any(f => f.Name == nf) ? nf : null;
            var vectorFields = info.Fields.Where(f => f.IsVector).ToList();
            var unsupported = vectorFields.Where(f => f.Type is not ("FloatVector" or "Float16Vector" or "BFloat16Vector" or "SparseFloatVector")).ToList();
            if (unsupported.Count > 0)
            {
                throw new VecMigrateException(FailureKind.IncompatibleTarget, MilvusErrorIds.FieldUnsupported,
                    $"Collection '{info.Name}' has vector field(s) {string.Join(", ", unsupported.Select(f => $"'{f.Name}' ({f.Type})"))} that VecMigrate cannot read yet " +
                    "(FloatVector, Float16Vector, BFloat16Vector and SparseFloatVector are read).", info.Name);
            }
            foreach (var f in vectorFields)
            {
                var name = f.Name == _marker.UnnamedVector || (vectorFields.Count == 1 && _marker.UnnamedVector is null) ? VectorRecord.DefaultVectorName : f.Name;
                _vectors.Add((f, name));
                _vectorFields.Add(f.Name);
            }
            foreach (var f in info.Fields)
            {
                if (!f.PrimaryKey && !f.IsVector && f.Name != _namespaceField) _scalars[f.Name] = f;
            }
            var idKinds = IsInt ? IdKinds.Unsigned : _marker.Ids == "uuid" ? IdKinds.Uuid : IdKinds.String;
            Schema = new SourceSchema(SourceKind.Milvus, info.Name, idKinds,
                _vectors.Select(v => new VectorField(v.Name, v.Field.Type == "SparseFloatVector" ? VectorKind.Sparse : VectorKind.Dense,
                    v.Field.Dimension, MilvusTypeMap.Metric(info.Metrics.GetValueOrDefault(v.Field.Name)), v.Field.Type)).ToList(),
                hasNamespaces: _namespaceField is not null, "payload")
            {
                Fields = _scalars.Values.Select(f => new ScalarField(f.Name, f.Type, f.Nullable, f.ElementType)).ToList(),
            };
            OutputFields = ["*", .. _vectorFields];
        }

        public MilvusField Pk { get; }

        public bool IsInt { get; }

        /// <summary>The field that keeps namespaces (a copy from Pinecone), or null.</summary>
        public string? NamespaceField => _namespaceField;

        /// <summary>The dense float vector field records call <paramref name="name"/>, or null.</summary>
        public MilvusField? VectorNamed(string name) =>
            _vectors.Where(v => v.Name == name && v.Field.Type != "SparseFloatVector").Select(v => v.Field).FirstOrDefault();

        /// <summary>The metric of the field's index (COSINE, IP, L2), or null.</summary>
        public string? MetricOf(MilvusField field) => _info.Metrics.GetValueOrDefault(field.Name);

        /// <summary>A key value as a position (the text a record's <see cref="VectorRecord.Position"/> holds).</summary>
        public string PositionOf(JsonElement key) => IsInt
            ? (key.ValueKind == JsonValueKind.Number ? key.GetInt64() : long.Parse(key.GetString()!, CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture)
            : key.GetString()!;

        /// <summary>A parsed key (<see cref="ParsePosition"/>) as a position's text.</summary>
        public string PositionText(object key) => key is long n ? n.ToString(CultureInfo.InvariantCulture) : (string)key;

        /// <summary>The record id of a key value as a read names it.</summary>
        public PointId IdOf(JsonElement key)
        {
            if (IsInt)
            {
                var n = key.ValueKind == JsonValueKind.Number ? key.GetInt64() : long.Parse(key.GetString()!, CultureInfo.InvariantCulture);
                return n >= 0 ? PointId.FromUnsigned((ulong)n) : throw Bad($"a negative key {n}");
            }
            var s = key.GetString()!;
            return _marker.Ids == "uuid" && Guid.TryParseExact(s, "D", out var g) ? PointId.FromUuid(g) : PointId.FromString(s);
        }

        public SourceSchema Schema { get; }

        public IReadOnlyList<string> OutputFields { get; }

        public object ParsePosition(string position)
        {
            if (!IsInt) return position;
            if (long.TryParse(position, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return n;
            throw new VecMigrateException(FailureKind.InvalidArgument, MilvusErrorIds.InvalidArgument,
                $"'{position}' is not a position in collection '{_info.Name}' (its key {Pk.Name} is Int64).", _info.Name);
        }

        /// <summary>A Milvus expression literal: the number, or a double-quoted string with \ and " escaped.</summary>
        public string Literal(object key) => key is long n ? n.ToString(CultureInfo.InvariantCulture) : MilvusTypeMap.StringLiteral((string)key);

        public int Compare(VectorRecord a, VectorRecord b) => ComparePosition(a.Position!, ParsePosition(b.Position!));

        public int ComparePosition(string position, object key) => key is long n
            ? long.Parse(position, CultureInfo.InvariantCulture).CompareTo(n)
            : MilvusTypeMap.CompareUtf8(position, (string)key);

        public VectorRecord ToRecord(JsonElement row, RecordOrigin origin)
        {
            if (!row.TryGetProperty(Pk.Name, out var pkValue)) throw Bad($"an entity without its key {Pk.Name}");
            PointId id;
            string position;
            if (IsInt)
            {
                var n = pkValue.ValueKind == JsonValueKind.Number ? pkValue.GetInt64() : long.Parse(pkValue.GetString()!, CultureInfo.InvariantCulture);
                position = n.ToString(CultureInfo.InvariantCulture);
                if (n < 0)
                {
                    throw new VecMigrateException(FailureKind.InvalidRecord, MilvusErrorIds.IdOutOfRange,
                        $"Entity {Pk.Name} = {n} of '{_info.Name}': record ids are unsigned, so a negative Int64 key has no place in them.", $"{_info.Name}/{n}");
                }
                id = PointId.FromUnsigned((ulong)n);
            }
            else
            {
                position = pkValue.GetString()!;
                id = _marker.Ids == "uuid" && Guid.TryParseExact(position, "D", out var g) ? PointId.FromUuid(g) : PointId.FromString(position);
            }

            var vectors = new Dictionary<string, VectorValue>(_vectors.Count, StringComparer.Ordinal);
            foreach (var (field, name) in _vectors)
            {
                if (!row.TryGetProperty(field.Name, out var v) || v.ValueKind == JsonValueKind.Null) continue;
                var value = DecodeVector(field, v, position);
                // An empty sparse row is how a record without this sparse vector is written (Milvus wants every vector field).
                if (value is SparseVector { Indices.Length: 0 }) continue;
                vectors[name] = value;
            }

            string? ns = null;
            if (_namespaceField is not null && row.TryGetProperty(_namespaceField, out var nsv) && nsv.ValueKind == JsonValueKind.String) ns = nsv.GetString();

            var buffer = new ArrayBufferWriter<byte>(256);
            var any = false;
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                foreach (var p in row.EnumerateObject())
                {
                    if (p.Name == Pk.Name || _vectorFields.Contains(p.Name) || p.Name == _namespaceField) continue;
                    any = true;
                    w.WritePropertyName(p.Name);
                    if (_scalars.TryGetValue(p.Name, out var f)) WriteScalar(w, f, p.Value);
                    else p.Value.WriteTo(w); // a dynamic field's key, as Milvus keeps it
                }
                w.WriteEndObject();
            }
            var payload = any || _scalars.Count > 0 ? new JsonPayload(buffer.WrittenMemory.ToArray()) : null;
            return new VectorRecord(id, vectors, payload) { Namespace = ns, Schema = Schema, Origin = origin, Position = position };
        }

        private static void WriteScalar(Utf8JsonWriter w, MilvusField f, JsonElement v)
        {
            switch (f.Type)
            {
                case "JSON" when v.ValueKind == JsonValueKind.String:
                    // A JSON field comes back as its JSON text (buildQueryResp in the proxy's utils.go).
                    w.WriteRawValue(v.GetString()!, skipInputValidation: false);
                    break;
                case "Array" when v.ValueKind == JsonValueKind.Object:
                    // Older proxies return an array as its protobuf ScalarField ({"Data":{"LongData":{"data":[…]}}}).
                    WriteProtoArray(w, v);
                    break;
                default:
                    v.WriteTo(w);
                    break;
            }
        }

        private static void WriteProtoArray(Utf8JsonWriter w, JsonElement v)
        {
            var e = v;
            while (e.ValueKind == JsonValueKind.Object)
            {
                var next = default(JsonElement);
                foreach (var p in e.EnumerateObject()) { next = p.Value; break; }
                e = next;
            }
            if (e.ValueKind == JsonValueKind.Array) e.WriteTo(w);
            else w.WriteStartArray();
            if (e.ValueKind != JsonValueKind.Array) w.WriteEndArray();
        }

        private VectorValue DecodeVector(MilvusField field, JsonElement v, string position)
        {
            switch (field.Type)
            {
                case "FloatVector":
                {
                    var a = new float[v.GetArrayLength()];
                    var i = 0;
                    foreach (var x in v.EnumerateArray()) a[i++] = x.GetSingle();
                    return new DenseVector(a);
                }
                case "Float16Vector" or "BFloat16Vector":
                {
                    if (v.ValueKind == JsonValueKind.Array)
                    {
                        var f = new float[v.GetArrayLength()];
                        var j = 0;
                        foreach (var x in v.EnumerateArray()) f[j++] = x.GetSingle();
                        return new DenseVector(f);
                    }
                    // []byte in Go's JSON: base64 of the little-endian 2-byte values.
                    var bytes = Convert.FromBase64String(v.GetString()!);
                    var a = new float[bytes.Length / 2];
                    for (var i = 0; i < a.Length; i++)
                    {
                        var bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2));
                        a[i] = field.Type == "Float16Vector" ? (float)BitConverter.UInt16BitsToHalf(bits) : BitConverter.Int32BitsToSingle(bits << 16);
                    }
                    return new DenseVector(a);
                }
                case "SparseFloatVector":
                    return MilvusTypeMap.ParseSparse(v) ?? throw Bad($"entity {position}: sparse vector '{field.Name}' is neither a map nor indices/values");
                default:
                    throw Bad($"entity {position}: vector field '{field.Name}' of type {field.Type}");
            }
        }

        public VecMigrateException Bad(string what) =>
            new(FailureKind.InvalidResponse, MilvusErrorIds.InvalidResponse, $"Milvus answered a query of '{_info.Name}' with {what}.", _info.Name);
    }
}
