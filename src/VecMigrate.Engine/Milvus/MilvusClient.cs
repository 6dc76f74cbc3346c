using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;

namespace VecMigrate.Engine.Milvus;

/// <summary>Milvus's error codes the client acts on (pkg/util/merr/errors.go; see docs/milvus-contract.md).</summary>
public static class MilvusCodes
{
    public const int Success = 0;
    public const int ServiceNotReady = 1;
    public const int ServiceUnavailable = 2;
    public const int TooManyRequests = 4;
    public const int RateLimit = 8;
    public const int ResourceInsufficient = 12;
    public const int CollectionNotFound = 100;
    public const int CollectionNotLoaded = 101;
    public const int CollectionNotFullyLoaded = 103;
    public const int ParameterInvalid = 1100;
    public const int NeedAuthenticate = 1800;
    public const int HttpRateLimit = 1807;
    public const int PrivilegeNotAuthenticated = 1400;
    public const int PrivilegeNotPermitted = 1401;

    /// <summary>Codes Milvus marks retriable that say "later": the call is repeated with backoff.</summary>
    public static bool IsRetriable(int code) => code is ServiceNotReady or ServiceUnavailable or TooManyRequests or RateLimit
        or ResourceInsufficient or CollectionNotFullyLoaded or HttpRateLimit;
}

/// <summary>A field of a Milvus collection as <c>collections/describe</c> tells it.</summary>
/// <param name="Name">The field's name.</param>
/// <param name="Type">Milvus's data type name (<c>Int64</c>, <c>VarChar</c>, <c>FloatVector</c>…).</param>
/// <param name="PrimaryKey">Whether it is the collection's key.</param>
/// <param name="AutoId">Whether Milvus gives its values (an Auto ID key).</param>
/// <param name="Nullable">Whether values may be null.</param>
/// <param name="PartitionKey">Whether it is the partition key.</param>
/// <param name="Params">Type parameters (<c>dim</c>, <c>max_length</c>, <c>max_capacity</c>).</param>
/// <param name="ElementType">For arrays, the element's data type.</param>
public sealed record MilvusField(string Name, string Type, bool PrimaryKey, bool AutoId, bool Nullable, bool PartitionKey,
    IReadOnlyDictionary<string, string> Params, string? ElementType)
{
    public bool IsVector => Type.EndsWith("Vector", StringComparison.Ordinal);

    public int? Dimension => Params.TryGetValue("dim", out var d) && int.TryParse(d, out var n) ? n : null;

    public int? MaxLength => Params.TryGetValue("max_length", out var d) && int.TryParse(d, out var n) ? n : null;
}

/// <summary>A Milvus collection as <c>collections/describe</c> and <c>get_stats</c> tell it (Get-MilvusCollection's output).</summary>
public sealed class MilvusCollectionInfo
{
    public required string Name { get; init; }
    public required string Url { get; init; }
    public string Description { get; init; } = "";
    public bool AutoId { get; init; }
    public bool EnableDynamicField { get; init; }
    public string LoadState { get; init; } = "";
    public int ShardsNum { get; init; }
    public int PartitionsNum { get; init; }
    public long? RowCount { get; init; }
    public required IReadOnlyList<MilvusField> Fields { get; init; }

    /// <summary>Vector field → metric type (COSINE, L2, IP…), from the collection's indexes.</summary>
    public required IReadOnlyDictionary<string, string> Metrics { get; init; }

    public MilvusField? PrimaryField => Fields.FirstOrDefault(f => f.PrimaryKey);

    public bool Loaded => LoadState == "LoadStateLoaded";

    /// <summary>For people: "id:Int64, vector:FloatVector(4), title:VarChar(256)".</summary>
    public string FieldSummary => string.Join(", ", Fields.Select(f =>
        $"{f.Name}:{f.Type}{(f.Dimension is { } d ? $"({d})" : f.MaxLength is { } m ? $"({m})" : "")}{(f.PrimaryKey ? " pk" : "")}"));

    public string IndexSummary => string.Join(", ", Metrics.Select(kv => $"{kv.Key}:{kv.Value}"));

    public override string ToString() => Name;
}

/// <summary>
/// A small typed client for Milvus's RESTful API v2 (<c>POST /v2/vectordb/...</c>), which self-hosted Milvus 2.4–2.6
/// and Zilliz Cloud serve alike. No Milvus client for .NET is served here, so this one is written by hand after
/// Milvus's own handlers (docs/milvus-contract.md). Every answer carries <c>code</c> (0 for success) and
/// <c>message</c>; errors mostly come with HTTP 200, so the code is what is checked. Codes Milvus marks retriable
/// (rate limit, unavailable, not ready) are retried here with the transport's backoff; HTTP 429/5xx by the transport.
/// The token travels as <c>Authorization: Bearer user:password</c> or <c>Bearer apikey</c>, never in a message.
/// </summary>
public sealed class MilvusClient
{
    /// <summary>Milvus's largest query window: offset + limit ≤ 16,384 (proxy QuotaConfig.MaxQueryResultWindow).</summary>
    public const int MaxQueryWindow = 16_384;

    /// <summary>The largest dimension of a vector field (proxy.maxDimension's default).</summary>
    public const int MaxDimension = 32_768;

    /// <summary>The largest VARCHAR max_length (65,535).</summary>
    public const int MaxVarCharLength = 65_535;

    private readonly ApiSecret? _token;
    private readonly RestTransport _transport;
    private readonly Uri _base;

    /// <param name="url">Milvus's url (http://host:19530) or a Zilliz Cloud endpoint.</param>
    /// <param name="token">user:password or an API key; null when Milvus runs without authentication.</param>
    /// <param name="transport">The HTTP transport (retries, timeouts) the calls go through.</param>
    /// <param name="database">The database; null for Milvus's default one.</param>
    public MilvusClient(Uri url, ApiSecret? token, RestTransport transport, string? database = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(transport);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"'{url}' is not an http(s) url.", nameof(url));
        if (!string.IsNullOrEmpty(url.UserInfo)) throw new ArgumentException("Put credentials in the token (-Credential, -ApiKey), not the url.", nameof(url));
        _base = new Uri(url.GetLeftPart(UriPartial.Authority) + "/");
        _token = token;
        _transport = transport;
        Database = string.IsNullOrWhiteSpace(database) ? null : database;
    }

    /// <summary>The server's url (scheme, host, port): never credentials.</summary>
    public Uri Endpoint => _base;

    public string? Database { get; }

    public ILogger Logger => _transport.Logger;

    public RestTransport Transport => _transport;

    // ------------------------------------------------------------------ collections

    public async Task<IReadOnlyList<string>> ListCollectionsAsync(CancellationToken cancellationToken = default)
    {
        using var doc = await PostAsync("collections/list", w => { }, "Listing collections", null, cancellationToken).ConfigureAwait(false);
        var list = new List<string>();
        if (doc.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in data.EnumerateArray()) list.Add(e.GetString() ?? "");
        }
        return list;
    }

    /// <summary>The collection, or null when Milvus says it does not exist.</summary>
    public async Task<MilvusCollectionInfo?> DescribeCollectionAsync(string collection, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(collection);
        JsonDocument doc;
        try
        {
            doc = await PostAsync("collections/describe", w => w.WriteString("collectionName", collection), $"Describing collection '{collection}'", collection, cancellationToken).ConfigureAwait(false);
        }
        catch (VecMigrateException ex) when (ex.ErrorId == MilvusErrorIds.CollectionNotFound)
        {
            return null;
        }
        using (doc)
        {
            return ParseCollection(doc.RootElement.GetProperty("data"), collection);
        }
    }

    /// <summary>The collection with its row count (<c>get_stats</c>); throws <c>MilvusCollectionNotFound</c> when it does not exist.</summary>
    public async Task<MilvusCollectionInfo> GetCollectionAsync(string collection, CancellationToken cancellationToken = default)
    {
        var info = await DescribeCollectionAsync(collection, cancellationToken).ConfigureAwait(false) ?? throw NotFound(collection);
        long? rows = null;
        using (var doc = await PostAsync("collections/get_stats", w => w.WriteString("collectionName", collection), $"Counting collection '{collection}'", collection, cancellationToken).ConfigureAwait(false))
        {
            if (doc.RootElement.TryGetProperty("data", out var d) && d.TryGetProperty("rowCount", out var rc))
            {
                rows = rc.ValueKind == JsonValueKind.Number ? rc.GetInt64() : long.TryParse(rc.GetString(), out var n) ? n : null;
            }
        }
        return new MilvusCollectionInfo
        {
            Name = info.Name, Url = info.Url, Description = info.Description, AutoId = info.AutoId, EnableDynamicField = info.EnableDynamicField,
            LoadState = info.LoadState, ShardsNum = info.ShardsNum, PartitionsNum = info.PartitionsNum, RowCount = rows,
            Fields = info.Fields, Metrics = info.Metrics,
        };
    }

    internal VecMigrateException NotFound(string collection) => new(FailureKind.NotFound, MilvusErrorIds.CollectionNotFound,
        $"Milvus at {_base} has no collection '{collection}'{(Database is null ? "" : $" in database '{Database}'")}.", Target(collection));

    /// <summary>Creates a collection; <paramref name="body"/> writes the request's fields after <c>collectionName</c>.</summary>
    public async Task CreateCollectionAsync(string collection, Action<Utf8JsonWriter> body, CancellationToken cancellationToken = default)
    {
        using var _ = await PostAsync("collections/create", w => { w.WriteString("collectionName", collection); body(w); },
            $"Creating collection '{collection}'", collection, cancellationToken).ConfigureAwait(false);
    }

    public async Task LoadCollectionAsync(string collection, CancellationToken cancellationToken = default)
    {
        using var _ = await PostAsync("collections/load", w => w.WriteString("collectionName", collection), $"Loading collection '{collection}'", collection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>LoadStateLoaded</c>, <c>LoadStateLoading</c>, <c>LoadStateNotLoad</c> or <c>LoadStateNotExist</c>.</summary>
    public async Task<string> GetLoadStateAsync(string collection, CancellationToken cancellationToken = default)
    {
        using var doc = await PostAsync("collections/get_load_state", w => w.WriteString("collectionName", collection), $"Asking the load state of '{collection}'", collection, cancellationToken).ConfigureAwait(false);
        return doc.RootElement.GetProperty("data").TryGetProperty("loadState", out var s) ? s.GetString() ?? "" : "";
    }

    /// <summary>Loads the collection and waits until Milvus says it is loaded (polling get_load_state).</summary>
    public async Task EnsureLoadedAsync(string collection, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (await GetLoadStateAsync(collection, cancellationToken).ConfigureAwait(false) == "LoadStateLoaded") return;
        await LoadCollectionAsync(collection, cancellationToken).ConfigureAwait(false);
        var until = DateTime.UtcNow + timeout;
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var state = await GetLoadStateAsync(collection, cancellationToken).ConfigureAwait(false);
            if (state == "LoadStateLoaded") return;
            if (DateTime.UtcNow > until)
            {
                throw new VecMigrateException(FailureKind.Timeout, MilvusErrorIds.CollectionNotLoaded,
                    $"Collection '{collection}' at {_base} was not loaded within {timeout.TotalSeconds:0} s (state {state}).", Target(collection));
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
        }
    }

    // ------------------------------------------------------------------ entities

    /// <summary>
    /// Every query and search reads at Strong consistency: a collection's default, Bounded, reads a view some seconds
    /// old, so a read right after a copy (Test-VectorMigration, a resumed copy reading its own target, a keyset page
    /// after the last one written) could miss entities just written. Strong waits until the read's timestamp has been
    /// applied; the cost is a little latency per page, which a migration's pages of thousands hardly notice.
    /// </summary>
    internal const string ReadConsistency = "Strong";

    /// <summary>
    /// One <c>entities/query</c> page: at most <paramref name="limit"/> entities matching <paramref name="filter"/>,
    /// from every partition. The caller disposes the document; its <c>data</c> is the array of rows.
    /// </summary>
    public Task<JsonDocument> QueryAsync(string collection, string filter, IReadOnlyList<string> outputFields, int limit, CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > MaxQueryWindow) throw new ArgumentOutOfRangeException(nameof(limit), limit, $"A query takes 1 to {MaxQueryWindow:N0} entities.");
        return PostAsync("entities/query", w =>
        {
            w.WriteString("collectionName", collection);
            w.WriteString("filter", filter);
            w.WriteStartArray("outputFields");
            foreach (var f in outputFields) w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteNumber("limit", limit);
            w.WriteString("consistencyLevel", ReadConsistency);
        }, $"Querying collection '{collection}'", collection, cancellationToken);
    }

    /// <summary>
    /// <c>entities/search</c> with one dense vector (<c>data</c>) in <paramref name="annsField"/>: the <paramref name="limit"/>
    /// nearest entities, best first, each row holding <paramref name="outputFields"/>, the key (also under <c>id</c>, as
    /// the handler's <c>buildQueryResp</c> adds it) and <c>distance</c> (the metric's own score: COSINE similarity, IP
    /// product, L2 squared distance). The caller disposes the document; its <c>data</c> is the array of rows.
    /// </summary>
    public Task<JsonDocument> SearchAsync(string collection, string annsField, float[] vector, int limit, string filter, IReadOnlyList<string> outputFields,
        CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > MaxQueryWindow) throw new ArgumentOutOfRangeException(nameof(limit), limit, $"A search takes 1 to {MaxQueryWindow:N0} entities.");
        return PostAsync("entities/search", w =>
        {
            w.WriteString("collectionName", collection);
            w.WriteStartArray("data");
            w.WriteStartArray();
            foreach (var f in vector) w.WriteNumberValue(f);
            w.WriteEndArray();
            w.WriteEndArray();
            w.WriteString("annsField", annsField);
            if (filter.Length > 0) w.WriteString("filter", filter);
            w.WriteNumber("limit", limit);
            w.WriteStartArray("outputFields");
            foreach (var f in outputFields) w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteString("consistencyLevel", ReadConsistency);
        }, $"Searching collection '{collection}'", collection, cancellationToken);
    }

    /// <summary>Sends a prepared <c>entities/upsert</c> (or insert) body; returns the count Milvus reports.</summary>
    internal async Task<long> SendRowsAsync(string collection, ReadOnlyMemory<byte> body, bool upsert, int count, CancellationToken cancellationToken)
    {
        var action = upsert ? "upsert" : "insert";
        // An insert gives rows new Auto ID keys: sent twice, it would store them twice, so it is never sent again once it may have arrived.
        using var doc = await PostRawAsync("entities/" + action, body, $"{(upsert ? "Upserting" : "Inserting")} {count} entities into '{collection}'", collection, cancellationToken,
            replayable: upsert).ConfigureAwait(false);
        var data = doc.RootElement.TryGetProperty("data", out var d) ? d : default;
        var key = upsert ? "upsertCount" : "insertCount";
        if (data.ValueKind != JsonValueKind.Object || !data.TryGetProperty(key, out var n) || n.ValueKind != JsonValueKind.Number)
        {
            throw new VecMigrateException(FailureKind.InvalidResponse, MilvusErrorIds.InvalidResponse,
                $"Milvus at {_base} answered the {action} into '{collection}' without data.{key}.", Target(collection));
        }
        var got = n.GetInt64();
        if (got != count)
        {
            throw new VecMigrateException(FailureKind.WriteFailed, MilvusErrorIds.WriteFailed,
                $"Milvus at {_base} took {got} of the {count} entities sent to '{collection}'.", Target(collection));
        }
        return got;
    }

    // ------------------------------------------------------------------ transport

    private string Target(string? collection) => collection is null ? _base.ToString() : $"{_base}{collection}";

    private Task<JsonDocument> PostAsync(string path, Action<Utf8JsonWriter> body, string what, string? collection, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (Database is not null) w.WriteString("dbName", Database);
            body(w);
            w.WriteEndObject();
        }
        return PostRawAsync(path, buffer.WrittenMemory, what, collection, ct);
    }

    /// <summary>
    /// POSTs a JSON body and returns the parsed answer when its code is 0. Codes Milvus marks retriable are tried
    /// again after the transport's backoff, up to its attempts; others become <see cref="VecMigrateException"/>s
    /// with Milvus's message (which never holds the token: Milvus does not echo headers).
    /// </summary>
    private async Task<JsonDocument> PostRawAsync(string path, ReadOnlyMemory<byte> body, string what, string? collection, CancellationToken ct, bool replayable = true)
    {
        var url = new Uri(_base, "v2/vectordb/" + path);
        for (var attempt = 1; ; attempt++)
        {
            using var response = await _transport.SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                if (_token is not null) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + _token.Reveal());
                // int64 values as JSON numbers, not strings (HTTPHeaderAllowInt64 in the proxy's constant.go).
                request.Headers.TryAddWithoutValidation("Accept-Type-Allow-Int64", "true");
                if (Database is not null) request.Headers.TryAddWithoutValidation("DB-Name", Database);
                return request;
            }, what, "Milvus", ct, compressed: false, replayable: replayable).ConfigureAwait(false);
            var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            JsonDocument? doc = null;
            try
            {
                doc = JsonDocument.Parse(bytes);
            }
            catch (JsonException)
            {
            }
            var code = doc is not null && doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("code", out var c) && c.TryGetInt32(out var ci) ? ci : -1;
            var message = doc is not null && doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "";
            if (response.IsSuccessStatusCode && code == MilvusCodes.Success && doc is not null) return doc;
            doc?.Dispose();
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                || code is MilvusCodes.NeedAuthenticate or MilvusCodes.PrivilegeNotAuthenticated or MilvusCodes.PrivilegeNotPermitted)
            {
                throw new VecMigrateException(FailureKind.Unauthorized, MilvusErrorIds.Unauthorized,
                    $"{what}: Milvus at {_base} refused the {(_token is null ? "request without a token" : "token")} (code {code}: {message}). " +
                    "Give -Credential (user:password) or -ApiKey, or set MILVUS_TOKEN.", Target(collection));
            }
            if (MilvusCodes.IsRetriable(code) || (int)response.StatusCode == 429)
            {
                // HTTP 429/5xx were already retried by the transport; a retriable code in a 200 answer is retried here.
                if (response.IsSuccessStatusCode && attempt < _transport.Retry.MaxAttempts)
                {
                    var delay = _transport.Retry.DelayFor(attempt, null);
                    MilvusLog.Retrying(Logger, what, code, message, attempt, _transport.Retry.MaxAttempts, delay.TotalMilliseconds);
                    await Task.Delay(delay, ct).ConfigureAwait(false);
                    continue;
                }
                throw new VecMigrateException(code is MilvusCodes.ServiceNotReady or MilvusCodes.ServiceUnavailable ? FailureKind.Unreachable : FailureKind.LimitExceeded,
                    code is MilvusCodes.ServiceNotReady or MilvusCodes.ServiceUnavailable ? MilvusErrorIds.Unavailable : MilvusErrorIds.RateLimited,
                    $"{what}: Milvus at {_base} still answered code {code} ({message}) after {attempt} attempt(s).", Target(collection));
            }
            if (code == -1)
            {
                throw new VecMigrateException(FailureKind.InvalidResponse, MilvusErrorIds.InvalidResponse,
                    $"{what}: Milvus at {_base} answered HTTP {(int)response.StatusCode} without a Milvus code (is this the RESTful API v2 port, 19530?).", Target(collection));
            }
            throw code switch
            {
                MilvusCodes.CollectionNotFound => collection is null
                    ? new VecMigrateException(FailureKind.NotFound, MilvusErrorIds.CollectionNotFound, $"{what}: {message}", Target(collection))
                    : NotFound(collection),
                MilvusCodes.CollectionNotLoaded => new VecMigrateException(FailureKind.MissingPrerequisite, MilvusErrorIds.CollectionNotLoaded,
                    $"{what}: collection '{collection}' is not loaded, so Milvus cannot query it ({message}). Load it first (POST /v2/vectordb/collections/load, or load_collection in pymilvus).", Target(collection)),
                _ => new VecMigrateException(FailureKind.InvalidArgument, MilvusErrorIds.Refused,
                    $"{what}: Milvus at {_base} refused it (code {code}: {message}).", Target(collection)),
            };
        }
    }

    private MilvusCollectionInfo ParseCollection(JsonElement data, string collection)
    {
        var fields = new List<MilvusField>();
        foreach (var f in data.GetProperty("fields").EnumerateArray())
        {
            var ps = new Dictionary<string, string>(StringComparer.Ordinal);
            if (f.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Array)
            {
                foreach (var kv in p.EnumerateArray())
                {
                    var k = kv.GetProperty("key").GetString() ?? "";
                    var v = kv.GetProperty("value");
                    ps[k] = v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : v.GetRawText();
                }
            }
            fields.Add(new MilvusField(f.GetProperty("name").GetString()!, f.GetProperty("type").GetString()!,
                Bool(f, "primaryKey"), Bool(f, "autoId"), Bool(f, "nullable"), Bool(f, "partitionKey"), ps,
                f.TryGetProperty("elementType", out var et) ? et.GetString() : null));
        }
        var metrics = new Dictionary<string, string>(StringComparer.Ordinal);
        if (data.TryGetProperty("indexes", out var ix) && ix.ValueKind == JsonValueKind.Array)
        {
            foreach (var i in ix.EnumerateArray())
            {
                if (i.TryGetProperty("fieldName", out var fn) && i.TryGetProperty("metricType", out var mt)) metrics[fn.GetString()!] = mt.GetString() ?? "";
            }
        }
        return new MilvusCollectionInfo
        {
            Name = data.TryGetProperty("collectionName", out var n) ? n.GetString() ?? collection : collection,
            Url = _base.ToString(),
            Description = data.TryGetProperty("description", out var d) ? d.GetString() ?? "" : "",
            AutoId = Bool(data, "autoId"),
            EnableDynamicField = Bool(data, "enableDynamicField"),
            LoadState = data.TryGetProperty("load", out var l) ? l.GetString() ?? "" : "",
            ShardsNum = data.TryGetProperty("shardsNum", out var s) && s.TryGetInt32(out var si) ? si : 0,
            PartitionsNum = data.TryGetProperty("partitionsNum", out var pn) && pn.TryGetInt32(out var pi) ? pi : 0,
            Fields = fields,
            Metrics = metrics,
        };
    }

    private static bool Bool(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
}

/// <summary>Stable error ids of the Milvus folder.</summary>
public static class MilvusErrorIds
{
    public const string CollectionNotFound = "MilvusCollectionNotFound";
    public const string CollectionNotLoaded = "MilvusCollectionNotLoaded";
    public const string Unauthorized = "MilvusUnauthorized";
    public const string Unavailable = "MilvusUnavailable";
    public const string RateLimited = "MilvusRateLimited";
    public const string Refused = "MilvusRequestRefused";
    public const string InvalidResponse = "MilvusInvalidResponse";
    public const string WriteFailed = "MilvusWriteFailed";
    public const string Incompatible = "MilvusCollectionIncompatible";
    public const string InvalidArgument = "MilvusInvalidArgument";
    public const string IdOutOfRange = "MilvusIdOutOfRange";
    public const string IdTypeMismatch = "MilvusIdTypeMismatch";
    public const string DimensionMismatch = "MilvusDimensionMismatch";
    public const string InvalidVector = "MilvusInvalidVector";
    public const string ValueTooLong = "MilvusValueTooLong";
    public const string InvalidValue = "MilvusInvalidValue";
    public const string FieldUnsupported = "MilvusFieldUnsupported";
}

internal static partial class MilvusLog
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Information, Message = "{What}: Milvus code {Code} ({Message}); attempt {Attempt} of {Max}, retrying in {DelayMs:0} ms")]
    public static partial void Retrying(ILogger logger, string what, int code, string message, int attempt, int max, double delayMs);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Debug, Message = "Read {Count} entities of '{Collection}' after {After}")]
    public static partial void PageRead(ILogger logger, int count, string collection, string after);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Created Milvus collection '{Collection}': {Fields}")]
    public static partial void Created(ILogger logger, string collection, string fields);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Debug, Message = "Upserted {Count} entities ({Bytes} bytes) into '{Collection}', {Total} in all")]
    public static partial void BatchWritten(ILogger logger, int count, int bytes, string collection, long total);
}
