using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace VecMigrate.Testing.StandIns;

/// <summary>One exchange the Milvus stand-in saw: path, request body, HTTP status and answer body.</summary>
public sealed record MilvusStandInExchange(string Path, string RequestBody, int Status, string ResponseBody);

/// <summary>A field of a stand-in collection.</summary>
public sealed record MilvusStandInField(string Name, string DataType, bool IsPrimary, bool Nullable, bool PartitionKey, int? Dim, int? MaxLength,
    string? ElementType, int? MaxCapacity);

/// <summary>A stand-in collection: schema, load state, entities by key (kept in key order).</summary>
public sealed class MilvusStandInCollection
{
    internal MilvusStandInCollection(string name, List<MilvusStandInField> fields, bool dynamic, string description, Dictionary<string, string> metrics, int shards)
    {
        Name = name;
        Fields = fields;
        EnableDynamicField = dynamic;
        Description = description;
        Metrics = metrics;
        ShardsNum = shards;
        Pk = fields.Single(f => f.IsPrimary);
        Rows = Pk.DataType == "Int64"
            ? new SortedDictionary<object, JsonObject>(Comparer<object>.Create((a, b) => ((long)a).CompareTo((long)b)))
            : new SortedDictionary<object, JsonObject>(Comparer<object>.Create((a, b) => Encoding.UTF8.GetBytes((string)a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes((string)b))));
    }

    public string Name { get; }
    public List<MilvusStandInField> Fields { get; }

    /// <summary>Whether the key is Auto ID: inserts must leave it out, and the stand-in gives each row the next id.</summary>
    public bool AutoId { get; init; }

    /// <summary>The next Auto ID key (Milvus's are large positive Int64s from its timestamp allocator).</summary>
    internal long NextId { get; set; } = 463_000_000_000_000_001L;
    public MilvusStandInField Pk { get; }
    public bool EnableDynamicField { get; }
    public string Description { get; }
    public Dictionary<string, string> Metrics { get; }
    public int ShardsNum { get; }
    public string LoadState { get; set; } = "LoadStateNotLoad";

    /// <summary>Entities by key, as stored (typed fields converted as Milvus stores them; dynamic keys under "$meta").</summary>
    public SortedDictionary<object, JsonObject> Rows { get; }

    /// <summary>When each entity was last written through the API (seeded ones are absent: written long ago).</summary>
    internal Dictionary<object, DateTime> WrittenAt { get; } = [];
}

/// <summary>
/// An in-memory Milvus RESTful API v2 for tests (Kestrel on 127.0.0.1), built after docs/milvus-contract.md:
/// <c>collections/{list,describe,create,load,get_load_state,get_stats,drop}</c> and <c>entities/{insert,upsert,query}</c>,
/// every answer <c>{"code":…,"message"/"data"}</c> with HTTP 200 except authentication (401, code 1800). Queries
/// answer in primary-key order (Int64 numerically, VarChar by UTF-8 bytes), refuse offset+limit above 16,384 and
/// unloaded collections; filters know what keyset reading needs (<c>pk &gt; x</c>, comparisons, <c>in [...]</c>,
/// <c>and</c>, parentheses). Values are stored as Milvus stores them: Float fields and float vectors as float32,
/// JSON fields as their text (answered as a string), dynamic numbers parsed the gjson way (int64 without a point,
/// float64 with one), dynamic nulls dropped. Faults: <see cref="FailNext"/> answers a Milvus code (8 rate limit,
/// 2 unavailable) for the next requests.
/// </summary>
public sealed class MilvusStandIn : IAsyncDisposable
{
    public const int MaxQueryWindow = 16_384;

    private readonly StandInHost _host;
    private readonly ConcurrentQueue<(int Code, string Message, int Status)> _faults = new();
    private readonly object _gate = new();

    private MilvusStandIn(StandInHost host, string? token)
    {
        _host = host;
        Token = token;
    }

    /// <summary>The token the stand-in wants (<c>Authorization: Bearer …</c>); null: no authentication.</summary>
    public string? Token { get; }

    public Uri Url => _host.BaseAddress;

    public ConcurrentDictionary<string, MilvusStandInCollection> Collections { get; } = new(StringComparer.Ordinal);

    /// <summary>Every exchange, in order (bodies kept up to 64 KB).</summary>
    public ConcurrentQueue<MilvusStandInExchange> Exchanges { get; } = new();

    public int QueryCount;

    /// <summary>
    /// How far behind the latest writes a query or search sees unless it asks for <c>consistencyLevel: Strong</c>
    /// (zero by default: every read sees everything). Milvus's default level, Bounded, reads "a less updated data
    /// view (usually several seconds earlier)" (docs "Consistency Level"); a read that must see what was just
    /// written asks for Strong. Session and Eventually are treated as Bounded here (a REST call has no session).
    /// </summary>
    public TimeSpan BoundedStaleness { get; set; }

    /// <summary>The consistency level of each query and search, as sent ("" when the request named none).</summary>
    public ConcurrentQueue<string> ReadConsistency { get; } = new();

    public static async Task<MilvusStandIn> StartAsync(string? token = "root:Milvus")
    {
        MilvusStandIn? self = null;
        var host = await StandInHost.StartAsync(app => app.Run(ctx => self!.HandleAsync(ctx))).ConfigureAwait(false);
        self = new MilvusStandIn(host, token);
        return self;
    }

    /// <summary>The next <paramref name="times"/> requests get Milvus code <paramref name="code"/> (8: rate limit, 2: unavailable) instead of an answer.</summary>
    public void FailNext(int code, int times = 1, int httpStatus = 200)
    {
        var message = code switch { 8 => "rate limit exceeded[rate=0.1]", 2 => "service unavailable", 1 => "service not ready", _ => "injected" };
        for (var i = 0; i < times; i++) _faults.Enqueue((code, message, httpStatus));
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        string body;
        using (var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8)) body = await reader.ReadToEndAsync().ConfigureAwait(false);
        var path = ctx.Request.Path.Value ?? "";
        int status;
        JsonObject answer;
        if (ctx.Request.Method != "POST" || !path.StartsWith("/v2/vectordb/", StringComparison.Ordinal))
        {
            (status, answer) = (404, new JsonObject { ["code"] = 404, ["message"] = "404 page not found" });
        }
        else if (Token is not null && ctx.Request.Headers.Authorization.ToString() != "Bearer " + Token)
        {
            (status, answer) = (401, Error(1800, "user hasn't authenticated"));
        }
        else if (_faults.TryDequeue(out var fault))
        {
            (status, answer) = (fault.Status, Error(fault.Code, fault.Message));
        }
        else
        {
            status = 200;
            try
            {
                var req = JsonNode.Parse(body.Length == 0 ? "{}" : body) as JsonObject ?? throw new MilvusError(1801, "can only accept json format request");
                var allowInt64 = ctx.Request.Headers["Accept-Type-Allow-Int64"].ToString() == "true";
                lock (_gate) answer = Route(path["/v2/vectordb/".Length..], req, allowInt64);
            }
            catch (MilvusError e)
            {
                answer = Error(e.Code, e.Message);
            }
            catch (JsonException e)
            {
                answer = Error(1801, "can only accept json format request: " + e.Message);
            }
        }
        var text = answer.ToJsonString();
        Exchanges.Enqueue(new MilvusStandInExchange(path, body.Length > 65536 ? body[..65536] : body, status, text.Length > 65536 ? text[..65536] : text));
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        await ctx.Response.WriteAsync(text).ConfigureAwait(false);
    }

    private static JsonObject Error(int code, string message) => new() { ["code"] = code, ["message"] = message };

    private static JsonObject Ok(JsonNode? data) => new() { ["code"] = 0, ["data"] = data };

    private sealed class MilvusError(int code, string message) : Exception(message)
    {
        public int Code { get; } = code;
    }

    private MilvusStandInCollection Find(JsonObject req)
    {
        var name = req["collectionName"]?.GetValue<string>() ?? throw new MilvusError(1802, "missing required parameters, error: Key: 'collectionName' Error:Field validation for 'collectionName' failed on the 'required' tag");
        return Collections.TryGetValue(name, out var c) ? c : throw new MilvusError(100, $"collection not found[collection={name}]");
    }

    private JsonObject Route(string action, JsonObject req, bool allowInt64)
    {
        switch (action)
        {
            case "collections/list":
                return Ok(new JsonArray(Collections.Keys.Order(StringComparer.Ordinal).Select(k => (JsonNode)k).ToArray()));
            case "collections/has":
                return Ok(new JsonObject { ["has"] = Collections.ContainsKey(req["collectionName"]?.GetValue<string>() ?? "") });
            case "collections/describe":
                return Ok(Describe(Find(req)));
            case "collections/get_stats":
                return Ok(new JsonObject { ["rowCount"] = Find(req).Rows.Count });
            case "collections/get_load_state":
                return Ok(new JsonObject { ["loadState"] = Find(req).LoadState, ["loadProgress"] = Find(req).LoadState == "LoadStateLoaded" ? 100 : 0 });
            case "collections/load":
            {
                var c = Find(req);
                if (c.Metrics.Count < c.Fields.Count(f => f.DataType.EndsWith("Vector", StringComparison.Ordinal)))
                    throw new MilvusError(700, $"index not found[collection={c.Name}]");
                c.LoadState = "LoadStateLoaded";
                return Ok(new JsonObject());
            }
            case "collections/release":
                Find(req).LoadState = "LoadStateNotLoad";
                return Ok(new JsonObject());
            case "collections/drop":
                Collections.TryRemove(req["collectionName"]?.GetValue<string>() ?? "", out _);
                return Ok(new JsonObject());
            case "collections/create":
                Create(req);
                return Ok(new JsonObject());
            case "entities/insert":
            case "entities/upsert":
                return Write(Find(req), req, upsert: action.EndsWith("upsert", StringComparison.Ordinal));
            case "entities/query":
                Interlocked.Increment(ref QueryCount);
                return Query(Find(req), req, allowInt64);
            case "entities/search":
                Interlocked.Increment(ref SearchCount);
                return Search(Find(req), req, allowInt64);
            default:
                throw new MilvusError(404, "404 page not found");
        }
    }

    private static JsonObject Describe(MilvusStandInCollection c)
    {
        var fields = new JsonArray();
        var id = 100;
        foreach (var f in c.Fields)
        {
            var o = new JsonObject
            {
                ["autoId"] = f.IsPrimary && c.AutoId, ["clusteringKey"] = false, ["description"] = "", ["id"] = id++, ["name"] = f.Name, ["nullable"] = f.Nullable,
                ["partitionKey"] = f.PartitionKey, ["primaryKey"] = f.IsPrimary, ["type"] = f.DataType,
            };
            var ps = new JsonArray();
            if (f.Dim is { } d) ps.Add(new JsonObject { ["key"] = "dim", ["value"] = d.ToString(CultureInfo.InvariantCulture) });
            if (f.MaxLength is { } m) ps.Add(new JsonObject { ["key"] = "max_length", ["value"] = m.ToString(CultureInfo.InvariantCulture) });
            if (f.MaxCapacity is { } mc) ps.Add(new JsonObject { ["key"] = "max_capacity", ["value"] = mc.ToString(CultureInfo.InvariantCulture) });
            if (ps.Count > 0) o["params"] = ps;
            if (f.ElementType is { } et) o["elementType"] = et;
            fields.Add(o);
        }
        return new JsonObject
        {
            ["aliases"] = new JsonArray(), ["autoId"] = c.AutoId, ["collectionID"] = 4_600_000_000_000_000_000L + c.Name.Length, ["collectionName"] = c.Name,
            ["consistencyLevel"] = "Bounded", ["description"] = c.Description, ["enableDynamicField"] = c.EnableDynamicField, ["fields"] = fields,
            ["functions"] = new JsonArray(),
            ["indexes"] = new JsonArray(c.Metrics.Select(kv => (JsonNode)new JsonObject { ["fieldName"] = kv.Key, ["indexName"] = kv.Key + "_idx", ["metricType"] = kv.Value }).ToArray()),
            ["load"] = c.LoadState, ["partitionsNum"] = 1, ["properties"] = new JsonArray(), ["shardsNum"] = c.ShardsNum,
        };
    }

    private void Create(JsonObject req)
    {
        var name = req["collectionName"]?.GetValue<string>() ?? throw new MilvusError(1802, "missing required parameters");
        if (Collections.ContainsKey(name)) throw new MilvusError(1, $"collection already exists: {name}"); // hedged: Milvus refuses a differing schema
        if (req["schema"] is not JsonObject schema || schema["fields"] is not JsonArray fa)
            throw new MilvusError(1100, "the stand-in creates collections from a schema only: invalid parameter");
        var fields = new List<MilvusStandInField>();
        foreach (var n in fa)
        {
            var f = (JsonObject)n!;
            var p = f["elementTypeParams"] as JsonObject;
            int? Int(string k) => p?[k] is { } v ? int.Parse(v.ToString(), CultureInfo.InvariantCulture) : null;
            var type = f["dataType"]!.GetValue<string>();
            var dim = Int("dim");
            if (type is "FloatVector" or "Float16Vector" or "BFloat16Vector" or "BinaryVector" && dim is not (>= 1 and <= 32768))
                throw new MilvusError(1100, $"invalid dimension: {dim}. should be in range 2 ~ 32768: invalid parameter");
            var maxLength = Int("max_length");
            if (type == "VarChar" && maxLength is not (>= 1 and <= 65535))
                throw new MilvusError(1100, $"the maximum length specified for the field({f["fieldName"]}) should be in (0, 65535], but got {maxLength} instead: invalid parameter");
            fields.Add(new MilvusStandInField(f["fieldName"]!.GetValue<string>(), type, f["isPrimary"]?.GetValue<bool>() == true, f["nullable"]?.GetValue<bool>() == true,
                f["isPartitionKey"]?.GetValue<bool>() == true, dim, maxLength, f["elementDataType"]?.GetValue<string>(), Int("max_capacity")));
        }
        if (fields.Count(f => f.IsPrimary) != 1) throw new MilvusError(1100, "there should be one primary key field: invalid parameter");
        var metrics = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in req["indexParams"] as JsonArray ?? [])
        {
            var ip = (JsonObject)n!;
            metrics[ip["fieldName"]!.GetValue<string>()] = ip["metricType"]?.GetValue<string>() ?? "COSINE";
        }
        var shards = req["params"]?["shardsNum"]?.GetValue<int>() ?? 1;
        var autoId = schema["autoID"]?.GetValue<bool>() == true;
        if (autoId && fields.Single(f => f.IsPrimary).DataType != "Int64")
            throw new MilvusError(1100, "the stand-in gives Auto ID keys to Int64 key fields only: invalid parameter"); // VecMigrate asks for Int64 only
        var c = new MilvusStandInCollection(name, fields, schema["enableDynamicField"]?.GetValue<bool>() == true, req["description"]?.GetValue<string>() ?? "", metrics, shards)
        {
            AutoId = autoId,
        };
        // With index params, create loads the collection (CreateCollection with index in the v2 handler).
        if (metrics.Count > 0) c.LoadState = "LoadStateLoaded";
        Collections[name] = c;
    }

    /// <summary>Adds a collection directly (for reading tests), as a client would have created and loaded it.</summary>
    public MilvusStandInCollection AddCollection(string name, IEnumerable<MilvusStandInField> fields, bool dynamic = true, Dictionary<string, string>? metrics = null, bool loaded = true)
    {
        var list = fields.ToList();
        var c = new MilvusStandInCollection(name, list, dynamic, "",
            metrics ?? list.Where(f => f.DataType.EndsWith("Vector", StringComparison.Ordinal)).ToDictionary(f => f.Name, _ => "COSINE"), 1)
        { LoadState = loaded ? "LoadStateLoaded" : "LoadStateNotLoad" };
        Collections[name] = c;
        return c;
    }

    /// <summary>Stores rows given as JSON objects (as an insert would).</summary>
    public void AddRows(string collection, IEnumerable<JsonObject> rows)
    {
        var c = Collections[collection];
        lock (_gate)
        {
            foreach (var r in rows) Store(c, r, 0);
        }
    }

    private JsonObject Write(MilvusStandInCollection c, JsonObject req, bool upsert)
    {
        if (req["data"] is not JsonArray data || data.Count == 0) throw new MilvusError(1802, "missing required parameters");
        var stored = new List<(object Key, JsonObject Row)>();
        if (c.AutoId && upsert) throw new MilvusError(1100, "the stand-in does not upsert into Auto ID collections: invalid parameter");
        var next = c.NextId;
        for (var i = 0; i < data.Count; i++)
        {
            if (data[i] is not JsonObject row) throw new MilvusError(1100, "NULL:0, FALSE:1, NUMBER:2, STRING:3, TRUE:4, JSON:5: invalid parameter");
            if (c.AutoId)
            {
                // Milvus fills an Auto ID key itself; a row that brings one is refused (wording the stand-in's own).
                if (row.ContainsKey(c.Pk.Name)) throw InsertError($"row {i} gives a value for the Auto ID key field {c.Pk.Name}");
                row = (JsonObject)row.DeepClone();
                row[c.Pk.Name] = next++;
            }
            stored.Add(Convert(c, row, i));
        }
        if (c.AutoId) c.NextId = next;
        // All or nothing, as one insert message.
        var now = DateTime.UtcNow;
        foreach (var (key, row) in stored)
        {
            c.Rows[key] = row;
            c.WrittenAt[key] = now;
        }
        var ids = new JsonArray(stored.Select(s => s.Key is long l ? (JsonNode)l : (JsonNode)(string)s.Key).ToArray());
        return Ok(upsert ? new JsonObject { ["upsertCount"] = stored.Count, ["upsertIds"] = ids } : new JsonObject { ["insertCount"] = stored.Count, ["insertIds"] = ids });
    }

    private static void Store(MilvusStandInCollection c, JsonObject row, int index)
    {
        var (key, r) = Convert(c, row, index);
        c.Rows[key] = r;
    }

    private static MilvusError InsertError(string detail) => new(1804, "fail to deal the insert data, error: " + detail);

    private static (object Key, JsonObject Row) Convert(MilvusStandInCollection c, JsonObject row, int index)
    {
        var stored = new JsonObject();
        object? key = null;
        foreach (var f in c.Fields)
        {
            var v = row[f.Name];
            if (v is null)
            {
                if (f.Nullable) { stored[f.Name] = null; continue; }
                throw InsertError($"row {index} does not has field {f.Name}");
            }
            switch (f.DataType)
            {
                case "Int64" or "Int32" or "Int16" or "Int8":
                {
                    if (v.GetValueKind() != JsonValueKind.Number || !long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                        throw new MilvusError(1100, $"{f.DataType}: {v.ToJsonString()}: invalid parameter");
                    stored[f.Name] = n;
                    if (f.IsPrimary) key = n;
                    break;
                }
                case "VarChar":
                {
                    var s = v.GetValue<string>();
                    if (Encoding.UTF8.GetByteCount(s) > f.MaxLength)
                        throw new MilvusError(1100, $"length of varchar field {f.Name} exceeds max length, row number: {index}, length: {Encoding.UTF8.GetByteCount(s)}, max length: {f.MaxLength}: invalid parameter");
                    stored[f.Name] = s;
                    if (f.IsPrimary) key = s;
                    break;
                }
                case "Float":
                    stored[f.Name] = JsonValue.Create(float.Parse(v.ToJsonString(), CultureInfo.InvariantCulture));
                    break;
                case "Double":
                    stored[f.Name] = JsonValue.Create(double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture));
                    break;
                case "Bool":
                    stored[f.Name] = v.GetValue<bool>();
                    break;
                case "JSON":
                    stored[f.Name] = v.ToJsonString(); // kept as its text; answered as a string
                    break;
                case "Array":
                    if (v is not JsonArray arr) throw new MilvusError(1100, $"Array: {v.ToJsonString()}: invalid parameter");
                    if (arr.Count > (f.MaxCapacity ?? 4096)) throw new MilvusError(1100, $"the length ({arr.Count}) of {f.Name} array field exceeds max capacity: invalid parameter");
                    stored[f.Name] = arr.DeepClone();
                    break;
                case "FloatVector":
                {
                    if (v is not JsonArray a) throw new MilvusError(1100, $"FloatVector: {v.ToJsonString()}: invalid parameter");
                    if (a.Count != f.Dim) throw InsertError($"[]float32 size {a.Count} doesn't equal to vector dimension {f.Dim} of FloatVector");
                    var floats = a.Select(x => float.Parse(x!.ToJsonString(), CultureInfo.InvariantCulture)).ToArray();
                    if (floats.Any(x => !float.IsFinite(x))) throw new MilvusError(1100, $"float vector contains NaN or Inf: invalid parameter");
                    stored[f.Name] = new JsonArray(floats.Select(x => (JsonNode)JsonValue.Create(x)).ToArray());
                    break;
                }
                case "SparseFloatVector":
                    stored[f.Name] = v.DeepClone();
                    break;
                default:
                    stored[f.Name] = v.DeepClone(); // Float16/BFloat16/Binary: kept as sent (base64 or floats)
                    break;
            }
        }
        var meta = new JsonObject();
        foreach (var (k, v) in row)
        {
            if (c.Fields.Any(f => f.Name == k)) continue;
            if (!c.EnableDynamicField) throw new MilvusError(1100, "has pass more field without dynamic schema, please check it: invalid parameter");
            if (k == "$meta") throw new MilvusError(1100, $"use the invalid field name($meta) when enable dynamicField: invalid parameter");
            if (v is null) continue; // gjson.Null: skipped
            if (v.GetValueKind() == JsonValueKind.Number)
            {
                var raw = v.ToJsonString();
                meta[k] = raw.Contains('.')
                    ? JsonValue.Create(double.Parse(raw, CultureInfo.InvariantCulture))
                    : JsonValue.Create(long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : 0L); // cast.ToInt64: 0 on failure
            }
            else meta[k] = v.DeepClone();
        }
        if (c.EnableDynamicField) stored["$meta"] = meta;
        return (key!, stored);
    }

    /// <summary>
    /// Which entities a read sees: all of them at Strong (or with no staleness set), else none written within
    /// <see cref="BoundedStaleness"/>. A level Milvus does not know is refused (1100, the stand-in's words).
    /// </summary>
    private Func<object, bool> Visible(MilvusStandInCollection c, JsonObject req)
    {
        var level = req["consistencyLevel"]?.GetValue<string>() ?? "";
        ReadConsistency.Enqueue(level);
        if (level is not ("" or "Strong" or "Session" or "Bounded" or "Eventually" or "Customized"))
            throw new MilvusError(1100, $"consistencyLevel can only be [Strong, Session, Bounded, Eventually, Customized], got {level}: invalid parameter");
        if (level == "Strong" || BoundedStaleness <= TimeSpan.Zero) return _ => true;
        var horizon = DateTime.UtcNow - BoundedStaleness;
        return key => !c.WrittenAt.TryGetValue(key, out var at) || at <= horizon;
    }

    private JsonObject Query(MilvusStandInCollection c, JsonObject req, bool allowInt64)
    {
        var limit = req["limit"]?.GetValue<int>() ?? 0;
        var offset = req["offset"]?.GetValue<int>() ?? 0;
        var filter = req["filter"]?.GetValue<string>() ?? "";
        if (limit <= 0 && filter.Length == 0) throw new MilvusError(1100, "empty expression should be used with limit: invalid parameter");
        if (limit > 0 && (offset + limit > MaxQueryWindow || offset + limit <= 0))
            throw new MilvusError(1100, $"invalid max query result window, (offset+limit) should be in range [1, {MaxQueryWindow}], but got {offset + limit}: invalid parameter");
        if (c.LoadState != "LoadStateLoaded") throw new MilvusError(101, $"collection not loaded[collection={c.Name}]");
        var predicate = filter.Length == 0 ? (_ => true) : new FilterParser(filter, c).Parse();
        var visible = Visible(c, req);
        var output = (req["outputFields"] as JsonArray)?.Select(n => n!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
        var all = output.Contains("*");
        var result = new JsonArray();
        var skipped = 0;
        foreach (var (key, row) in c.Rows)
        {
            if (!visible(key) || !predicate(row)) continue;
            if (skipped++ < offset) continue;
            var o = new JsonObject();
            foreach (var f in c.Fields)
            {
                if (!f.IsPrimary && !all && !output.Contains(f.Name)) continue;
                var v = row[f.Name];
                o[f.Name] = f.DataType == "Int64" && !allowInt64 && v is not null ? v.ToJsonString() : v?.DeepClone();
            }
            if (row["$meta"] is JsonObject meta && (all || output.Contains("$meta")))
            {
                foreach (var (k, v) in meta) o[k] = v?.DeepClone();
            }
            result.Add(o);
            if (limit > 0 && result.Count >= limit) break;
        }
        return new JsonObject { ["code"] = 0, ["cost"] = 0, ["data"] = result };
    }

    /// <summary>How many searches were answered.</summary>
    public int SearchCount;

    /// <summary>
    /// <c>entities/search</c> with one dense vector in <c>data</c> (docs/milvus-contract.md): every matching entity
    /// compared (exact, where Milvus's index is approximate), by the field's index metric in float32: COSINE
    /// similarity and IP products (larger nearer), L2 squared distance (smaller nearer); best first, ties in key
    /// order; each row the key under its name and under <c>id</c>, the output fields asked for, and <c>distance</c>.
    /// Several query vectors, group-by, offsets and search params beyond the metric answer 1100 (the stand-in's words).
    /// </summary>
    private JsonObject Search(MilvusStandInCollection c, JsonObject req, bool allowInt64)
    {
        if (c.LoadState != "LoadStateLoaded") throw new MilvusError(101, $"collection not loaded[collection={c.Name}]");
        if (req["data"] is not JsonArray data || data.Count != 1 || data[0] is not JsonArray q)
            throw new MilvusError(1100, "the stand-in searches with exactly one dense vector in data: invalid parameter");
        foreach (var key in new[] { "groupingField", "offset", "ids" })
        {
            if (req[key] is { } v && v.ToJsonString() is not ("0" or "\"\"" or "[]" or "null")) throw new MilvusError(1100, $"the stand-in does not search with {key}: invalid parameter");
        }
        var vectors = c.Fields.Where(f => f.DataType == "FloatVector").ToList();
        var annsField = req["annsField"]?.GetValue<string>();
        var field = annsField is { Length: > 0 } a ? vectors.FirstOrDefault(f => f.Name == a) : vectors.Count == 1 ? vectors[0] : null;
        if (field is null) throw new MilvusError(1100, $"the anns field {annsField ?? "(none)"} is not a float vector field of {c.Name}, or several could be meant: invalid parameter");
        var query = q.Select(n => n!.GetValue<float>()).ToArray();
        if (query.Length != field.Dim) throw new MilvusError(1100, $"the dimension of the query vector ({query.Length}) does not match field {field.Name} ({field.Dim}): invalid parameter");
        var limit = req["limit"]?.GetValue<int>() ?? 100;
        if (limit is < 1 or > MaxQueryWindow) throw new MilvusError(1100, $"limit should be in range [1, {MaxQueryWindow}], but got {limit}: invalid parameter");
        var metric = c.Metrics.GetValueOrDefault(field.Name, "COSINE");
        var filter = req["filter"]?.GetValue<string>() ?? "";
        var predicate = filter.Length == 0 ? (_ => true) : new FilterParser(filter, c).Parse();
        var visible = Visible(c, req);
        var output = (req["outputFields"] as JsonArray)?.Select(n => n!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
        var scored = new List<(object Key, JsonObject Row, float Distance)>();
        foreach (var (key, row) in c.Rows)
        {
            if (!visible(key) || !predicate(row) || row[field.Name] is not JsonArray stored) continue;
            var v = stored.Select(n => n!.GetValue<float>()).ToArray();
            float dot = 0, qq = 0, vv = 0, l2 = 0;
            for (var i = 0; i < v.Length; i++)
            {
                dot += query[i] * v[i];
                qq += query[i] * query[i];
                vv += v[i] * v[i];
                l2 += (query[i] - v[i]) * (query[i] - v[i]);
            }
            var distance = metric switch
            {
                "L2" => l2,
                "IP" => dot,
                _ => qq == 0 || vv == 0 ? 0 : dot / (MathF.Sqrt(qq) * MathF.Sqrt(vv)),
            };
            scored.Add((key, row, distance));
        }
        var comparer = c.Rows.Comparer;
        var ordered = metric == "L2" ? scored.OrderBy(s => s.Distance) : scored.OrderByDescending(s => s.Distance);
        var result = new JsonArray();
        foreach (var (key, row, distance) in ordered.ThenBy(s => s.Key, comparer).Take(limit))
        {
            var o = new JsonObject();
            foreach (var f in c.Fields.Where(f => f.IsPrimary || output.Contains(f.Name)))
            {
                var v = row[f.Name];
                o[f.Name] = f.DataType == "Int64" && !allowInt64 && v is not null ? v.ToJsonString() : v?.DeepClone();
            }
            var pk = row[c.Pk.Name];
            o["id"] = c.Pk.DataType == "Int64" && !allowInt64 && pk is not null ? pk.ToJsonString() : pk?.DeepClone();
            o["distance"] = distance;
            result.Add(o);
        }
        return new JsonObject { ["code"] = 0, ["cost"] = 0, ["data"] = result };
    }

    /// <summary>The part of Milvus's expression language keyset reading and simple filters need.</summary>
    private sealed class FilterParser(string text, MilvusStandInCollection c)
    {
        private int _pos;

        public Func<JsonObject, bool> Parse()
        {
            var e = Or();
            Skip();
            if (_pos != text.Length) throw new MilvusError(1100, $"cannot parse expression: {text}, error: unexpected '{text[_pos..]}': invalid parameter");
            return e;
        }

        private Func<JsonObject, bool> Or()
        {
            var left = And();
            while (Word("or") || Sym("||")) { var l = left; var r = And(); left = x => l(x) || r(x); }
            return left;
        }

        private Func<JsonObject, bool> And()
        {
            var left = Term();
            while (Word("and") || Sym("&&")) { var l = left; var r = Term(); left = x => l(x) && r(x); }
            return left;
        }

        private Func<JsonObject, bool> Term()
        {
            Skip();
            if (Sym("("))
            {
                var e = Or();
                if (!Sym(")")) throw Fail("')' expected");
                return e;
            }
            var field = Ident();
            if (Word("in"))
            {
                var list = List();
                return x => list.Any(v => Compare(Get(x, field), v) == 0);
            }
            foreach (var op in new[] { ">=", "<=", "==", "!=", ">", "<" })
            {
                if (!Sym(op)) continue;
                var value = Value();
                return op switch
                {
                    ">=" => x => Compare(Get(x, field), value) >= 0,
                    "<=" => x => Compare(Get(x, field), value) <= 0,
                    "==" => x => Compare(Get(x, field), value) == 0,
                    "!=" => x => Compare(Get(x, field), value) != 0,
                    ">" => x => Compare(Get(x, field), value) > 0,
                    _ => x => Compare(Get(x, field), value) < 0,
                };
            }
            throw Fail("operator expected");
        }

        private JsonNode? Get(JsonObject row, string field) =>
            c.Fields.Any(f => f.Name == field) ? row[field] : (row["$meta"] as JsonObject)?[field];

        private static int Compare(JsonNode? a, object b)
        {
            if (a is null) return int.MinValue;
            return b switch
            {
                long l => a.GetValueKind() == JsonValueKind.Number ? decimal.Parse(a.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture).CompareTo(l) : int.MinValue,
                decimal d => a.GetValueKind() == JsonValueKind.Number ? decimal.Parse(a.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture).CompareTo(d) : int.MinValue,
                string s => a.GetValueKind() == JsonValueKind.String ? Encoding.UTF8.GetBytes(a.GetValue<string>()).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(s)) : int.MinValue,
                bool bo => a.GetValueKind() is JsonValueKind.True or JsonValueKind.False && a.GetValue<bool>() == bo ? 0 : 1,
                _ => int.MinValue,
            };
        }

        private List<object> List()
        {
            if (!Sym("[")) throw Fail("'[' expected");
            var list = new List<object>();
            Skip();
            if (Sym("]")) return list;
            do list.Add(Value()); while (Sym(","));
            if (!Sym("]")) throw Fail("']' expected");
            return list;
        }

        private object Value()
        {
            Skip();
            if (_pos < text.Length && text[_pos] is '"' or '\'')
            {
                var quote = text[_pos++];
                var b = new StringBuilder();
                while (_pos < text.Length && text[_pos] != quote)
                {
                    if (text[_pos] == '\\' && _pos + 1 < text.Length) _pos++;
                    b.Append(text[_pos++]);
                }
                if (_pos >= text.Length) throw Fail("unterminated string");
                _pos++;
                return b.ToString();
            }
            if (Word("true")) return true;
            if (Word("false")) return false;
            var start = _pos;
            while (_pos < text.Length && (char.IsDigit(text[_pos]) || text[_pos] is '-' or '+' or '.' or 'e' or 'E')) _pos++;
            var n = text[start.._pos];
            if (long.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
            if (decimal.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
            throw Fail("value expected");
        }

        private string Ident()
        {
            Skip();
            var start = _pos;
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
            if (_pos == start) throw Fail("field name expected");
            return text[start.._pos];
        }

        private bool Word(string w)
        {
            Skip();
            if (string.Compare(text, _pos, w, 0, w.Length, StringComparison.OrdinalIgnoreCase) != 0) return false;
            var end = _pos + w.Length;
            if (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_')) return false;
            _pos = end;
            return true;
        }

        private bool Sym(string s)
        {
            Skip();
            if (string.CompareOrdinal(text, _pos, s, 0, s.Length) != 0) return false;
            _pos += s.Length;
            return true;
        }

        private void Skip()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        private MilvusError Fail(string why) => new(1100, $"cannot parse expression: {text}, error: {why}: invalid parameter");
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
