using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pinecone;

// What real Pinecone does that shaped this client (sources: the 2026-04 and 2026-07 OpenAPI documents of
// pinecone-io/pinecone-api, docs.pinecone.io, SDK issues):
// - list: serverless only; ids "in sorted order (bitwise "C" collation)", i.e. by UTF-8 bytes; at most 100 a
//   page (2026-07: limit 1-100); `pagination.next` is opaque base64 (the docs' example decodes to
//   {"skip_past": id, "prefix": p}), so it holds '+', '/', '=' and must be percent-encoded. A page may come
//   back empty while still carrying a token, so only a missing token ends a namespace.
// - fetch: at most 1,000 ids; ids travel in the query string, and no URL limit is documented, so calls are
//   split to stay under 8 KB. The answer is a map (no order). 2026-07 restricts ids and prefixes to ASCII
//   (^[\x01-\x7F]+$, 1-512 chars); 2026-04 says nothing, so non-ASCII ids are still sent (as UTF-8).
// - Default namespace: requests that leave `namespace` out address it. 2026-07 calls it "__default__"
//   (reserved); describe_index_stats may report it as "__default__" or, per the 2026-04 example, "". Both
//   are the same namespace; records call it "".
// - Errors: control plane {"error": {"code", "message"}, "status"}; data plane rpcStatus {"code", "message",
//   "details"}; the gateway answers 401 (and its own 429s) with text/plain ("Unauthorized").
// - Rate limits are per second per index (fetch 100/s, list 200/s, describe_index_stats 100/s) and answer
//   429; a monthly read-unit limit also answers 429 and does not lift with retries. Retry-After is not
//   documented, so the transport's own backoff usually decides.
// - Pod-based indexes cannot list; they have been seen to answer list with 200 and a bare string
//   (python-sdk#331).

/// <summary>Where the client sends its calls and how it sizes them.</summary>
public sealed class PineconeClientOptions
{
    /// <summary>The control plane; <c>https://api.pinecone.io/</c> unless a test points elsewhere.</summary>
    public Uri ControlPlaneUrl { get; init; } = new("https://api.pinecone.io/");

    /// <summary>The scheme put before a bare index host from the control plane (<c>https</c>; tests use <c>http</c>).</summary>
    public string DataPlaneScheme { get; init; } = "https";

    /// <summary>Most ids in one fetch call. Pinecone allows 1,000.</summary>
    public int MaxIdsPerFetch { get; init; } = PineconeClient.MaxFetchIds;

    /// <summary>
    /// Longest fetch URL, scheme to query. Fetch takes its ids in the query string and percent-encoding can
    /// triple them; servers and proxies commonly refuse request lines over 8 KB (Kestrel's default is 8,192
    /// bytes), so batches are split to stay under this.
    /// </summary>
    public int MaxUrlLength { get; init; } = 8000;
}

/// <summary>
/// What the fetch parser needs to stamp onto the records it makes: the read's schema and origin, and each
/// record's resume position by id.
/// </summary>
public sealed class PineconeRecordContext
{
    public SourceSchema? Schema { get; init; }

    public RecordOrigin? Origin { get; init; }

    /// <summary>The <see cref="VectorRecord.Position"/> for a record id; null leaves it unset.</summary>
    public Func<string, string?>? PositionOf { get; init; }
}

/// <summary>
/// A thin typed client of Pinecone's REST API, version 2026-04: the control plane (<c>api.pinecone.io</c>) and
/// an index's data plane (its own host). Every call carries <c>Api-Key</c> and <c>X-Pinecone-Api-Version</c>; 429
/// and 5xx answers are retried by the <see cref="RestTransport"/>; other failures become a
/// <see cref="VecMigrateException"/> with a <see cref="PineconeErrorIds">stable id</see> and the server's own
/// message. The api key appears in no message, log line or exception (server messages are scrubbed of it too).
/// </summary>
public sealed class PineconeClient
{
    /// <summary>The API version this client speaks.</summary>
    public const string ApiVersion = "2026-04";

    /// <summary>The most ids one list page returns (the <c>limit</c> maximum).</summary>
    public const int MaxListLimit = 100;

    /// <summary>The most ids one fetch call may name.</summary>
    public const int MaxFetchIds = 1000;

    /// <summary>The most vectors one upsert request may carry.</summary>
    public const int MaxUpsertVectors = 1000;

    /// <summary>The largest upsert request body: 2 MB.</summary>
    public const int MaxUpsertBytes = 2 * 1024 * 1024;

    /// <summary>The largest metadata of one record, serialized: 40 KB.</summary>
    public const int MaxMetadataBytes = 40 * 1024;

    /// <summary>The longest record id, in characters.</summary>
    public const int MaxIdLength = 512;

    /// <summary>The most non-zero values of one sparse vector.</summary>
    public const int MaxSparseValues = 1000;

    private const int MaxErrorBodyChars = 4000;

    private readonly ApiSecret _apiKey;
    private readonly RestTransport _transport;

    public PineconeClient(ApiSecret apiKey, RestTransport transport, PineconeClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(apiKey);
        ArgumentNullException.ThrowIfNull(transport);
        _apiKey = apiKey;
        _transport = transport;
        Options = options ?? new PineconeClientOptions();
        if (Options.MaxIdsPerFetch is < 1 or > MaxFetchIds)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxIdsPerFetch must be 1 to {MaxFetchIds}.");
        }
    }

    public PineconeClientOptions Options { get; }

    internal ILogger Logger => _transport.Logger;

    /// <summary>The base url of an index's data plane: <c>https://{host}/</c>, or the host itself when it has a scheme.</summary>
    public Uri IndexUrl(string host)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        var trimmed = host.Trim().TrimEnd('/');
        return trimmed.Contains("://", StringComparison.Ordinal)
            ? new Uri(trimmed + "/")
            : new Uri($"{Options.DataPlaneScheme}://{trimmed}/");
    }

    // ---------------------------------------------------------------- control plane

    /// <summary><c>GET /indexes</c>: every index of the api key's project.</summary>
    public async Task<IReadOnlyList<PineconeIndexModel>> ListIndexesAsync(CancellationToken cancellationToken = default)
    {
        var url = new Uri(Options.ControlPlaneUrl, "indexes");
        var call = new Call(Operation.ListIndexes, "Pinecone list indexes", url.GetLeftPart(UriPartial.Path), null, null);
        var body = await SendAsync(HttpMethod.Get, url, null, call, cancellationToken).ConfigureAwait(false);
        using var doc = ParseJson(body, call);
        var root = ExpectObject(doc.RootElement, "the index list", call);
        var result = new List<PineconeIndexModel>();
        if (root.TryGetProperty("indexes", out var indexes) && indexes.ValueKind != JsonValueKind.Null)
        {
            if (indexes.ValueKind != JsonValueKind.Array) throw Invalid(call, "'indexes' is not an array");
            foreach (var item in indexes.EnumerateArray()) result.Add(ReadIndexModel(item, call));
        }
        return result;
    }

    /// <summary><c>GET /indexes/{name}</c>: host, dimension, metric, vector type, deployment and status.</summary>
    public async Task<PineconeIndexModel> DescribeIndexAsync(string indexName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(indexName);
        var url = new Uri(Options.ControlPlaneUrl, "indexes/" + Uri.EscapeDataString(indexName));
        var call = new Call(Operation.DescribeIndex, $"Pinecone describe index '{indexName}'", indexName, indexName, null);
        var body = await SendAsync(HttpMethod.Get, url, null, call, cancellationToken).ConfigureAwait(false);
        using var doc = ParseJson(body, call);
        return ReadIndexModel(doc.RootElement, call);
    }

    private static PineconeIndexModel ReadIndexModel(JsonElement e, Call call)
    {
        ExpectObject(e, "the index model", call);
        var name = RequiredString(e, "name", call);
        var host = RequiredString(e, "host", call);
        int? dimension = null;
        if (e.TryGetProperty("dimension", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            if (!d.TryGetInt32(out var dv) || dv < 1) throw Invalid(call, $"index '{name}' has a 'dimension' that is not a positive integer");
            dimension = dv;
        }
        var metric = OptionalString(e, "metric", call) ?? "cosine";
        var vectorType = OptionalString(e, "vector_type", call) ?? "dense";
        var deployment = PineconeDeployment.Unknown;
        if (e.TryGetProperty("spec", out var spec) && spec.ValueKind == JsonValueKind.Object)
        {
            if (spec.TryGetProperty("serverless", out _)) deployment = PineconeDeployment.Serverless;
            else if (spec.TryGetProperty("pod", out _)) deployment = PineconeDeployment.Pod;
            else if (spec.TryGetProperty("byoc", out _)) deployment = PineconeDeployment.Byoc;
        }
        var ready = false;
        var state = "";
        if (e.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Object)
        {
            ready = status.TryGetProperty("ready", out var r) && r.ValueKind == JsonValueKind.True;
            state = OptionalString(status, "state", call) ?? "";
        }
        return new PineconeIndexModel(name, host, dimension, metric, vectorType, deployment, ready, state);
    }

    // ---------------------------------------------------------------- data plane

    /// <summary><c>POST /describe_index_stats</c>: record counts by namespace, dimension, metric.</summary>
    public async Task<PineconeIndexStats> DescribeIndexStatsAsync(Uri indexUrl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(indexUrl);
        var url = new Uri(indexUrl, "describe_index_stats");
        var call = new Call(Operation.Stats, "Pinecone describe_index_stats", indexUrl.AbsoluteUri, null, null);
        var body = await SendAsync(HttpMethod.Post, url, "{}"u8.ToArray().AsMemory(), call, cancellationToken).ConfigureAwait(false);
        using var doc = ParseJson(body, call);
        var root = ExpectObject(doc.RootElement, "the index stats", call);
        var namespaces = new Dictionary<string, long>(StringComparer.Ordinal);
        if (root.TryGetProperty("namespaces", out var nss) && nss.ValueKind != JsonValueKind.Null)
        {
            if (nss.ValueKind != JsonValueKind.Object) throw Invalid(call, "'namespaces' is not an object");
            foreach (var ns in nss.EnumerateObject())
            {
                long count = 0;
                if (ns.Value.ValueKind != JsonValueKind.Object) throw Invalid(call, $"namespace '{ns.Name}' is not an object");
                if (ns.Value.TryGetProperty("vectorCount", out var vc) && vc.ValueKind != JsonValueKind.Null && !vc.TryGetInt64(out count))
                {
                    throw Invalid(call, $"'vectorCount' of namespace '{ns.Name}' is not an integer");
                }
                namespaces[ns.Name] = count;
            }
        }
        int? dimension = null;
        if (root.TryGetProperty("dimension", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            if (!d.TryGetInt32(out var dv) || dv < 0) throw Invalid(call, "'dimension' is not a non-negative integer");
            dimension = dv == 0 ? null : dv; // proto3 JSON may write 0 for "no dimension" (sparse)
        }
        long total = 0;
        if (root.TryGetProperty("totalVectorCount", out var t) && t.ValueKind != JsonValueKind.Null && !t.TryGetInt64(out total))
        {
            throw Invalid(call, "'totalVectorCount' is not an integer");
        }
        return new PineconeIndexStats(namespaces, dimension, total,
            OptionalString(root, "metric", call), OptionalString(root, "vectorType", call));
    }

    /// <summary>
    /// <c>GET /vectors/list</c>: one page of ids of a namespace (serverless indexes only), in bitwise order of
    /// their UTF-8 bytes. Pass the page's <see cref="PineconeIdPage.NextToken"/> as <paramref name="paginationToken"/>
    /// for the next page; the token is opaque (base64 today) and is sent percent-encoded.
    /// </summary>
    /// <param name="indexUrl">The index's data-plane url (<see cref="IndexUrl"/>).</param>
    /// <param name="namespace">The namespace; <c>""</c> or <c>"__default__"</c> for the default one (then not sent).</param>
    /// <param name="prefix">Only ids that start with this; null for all.</param>
    /// <param name="limit">Ids per page, 1 to 100; null for the server's default (100).</param>
    /// <param name="paginationToken">The previous page's <see cref="PineconeIdPage.NextToken"/>; null for the first page.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<PineconeIdPage> ListIdsAsync(Uri indexUrl, string @namespace, string? prefix = null, int? limit = null,
        string? paginationToken = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(indexUrl);
        if (limit is < 1 or > MaxListLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), $"A list page holds 1 to {MaxListLimit} ids.");
        }
        var query = new StringBuilder();
        AppendNamespace(query, @namespace);
        if (!string.IsNullOrEmpty(prefix)) AppendParam(query, "prefix", prefix);
        if (limit is { } l) AppendParam(query, "limit", l.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(paginationToken)) AppendParam(query, "paginationToken", paginationToken);
        var url = BuildUrl(indexUrl, "vectors/list", query);
        var call = new Call(Operation.List, "Pinecone list ids", DataTarget(indexUrl, @namespace), null, @namespace);
        var body = await SendAsync(HttpMethod.Get, url, null, call, cancellationToken).ConfigureAwait(false);

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            throw ListNotAvailable(call, "the index answered list with something that is not JSON");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                // Pod-based indexes have been seen to answer list with 200 and a bare string (pinecone-io/python-sdk#331).
                throw ListNotAvailable(call, $"the index answered list with a JSON {doc.RootElement.ValueKind}, not a list response");
            }
            var root = doc.RootElement;
            var ids = new List<string>();
            if (root.TryGetProperty("vectors", out var vectors) && vectors.ValueKind != JsonValueKind.Null)
            {
                if (vectors.ValueKind != JsonValueKind.Array) throw Invalid(call, "'vectors' of the list response is not an array");
                foreach (var item in vectors.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
                    {
                        throw Invalid(call, "an item of the list response has no string 'id'");
                    }
                    var text = id.GetString()!;
                    if (text.Length == 0) throw Invalid(call, "the list response holds an empty id");
                    ids.Add(text);
                }
            }
            string? next = null;
            if (root.TryGetProperty("pagination", out var pagination) && pagination.ValueKind == JsonValueKind.Object)
            {
                next = OptionalString(pagination, "next", call);
                if (next is { Length: 0 }) next = null;
            }
            return new PineconeIdPage(ids, next);
        }
    }

    /// <summary>
    /// <c>GET /vectors/fetch</c>: the records of <paramref name="ids"/> in one namespace, parsed straight into
    /// <see cref="VectorRecord"/>s (dense values under <c>""</c>, sparse values under <c>"sparse"</c>, metadata as the
    /// server's UTF-8 bytes). Ids are sent percent-encoded; the call is split so that none names more than
    /// <see cref="PineconeClientOptions.MaxIdsPerFetch"/> ids or has a URL longer than
    /// <see cref="PineconeClientOptions.MaxUrlLength"/>. Ids the server does not return (deleted) are absent
    /// from the result; the result has no order (the server answers a map).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, VectorRecord>> FetchAsync(Uri indexUrl, string @namespace, IReadOnlyList<string> ids,
        PineconeRecordContext? context = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(indexUrl);
        ArgumentNullException.ThrowIfNull(ids);
        var result = new Dictionary<string, VectorRecord>(ids.Count, StringComparer.Ordinal);
        if (ids.Count == 0) return result;

        var nsQuery = new StringBuilder();
        AppendNamespace(nsQuery, @namespace);
        var batches = SplitFetch(indexUrl, nsQuery.ToString(), ids);
        PineconeLog.Fetching(Logger, ids.Count, PineconeNamespace.Normalize(@namespace), batches.Count);
        var call = new Call(Operation.Fetch, "Pinecone fetch", DataTarget(indexUrl, @namespace), null, @namespace);
        var recordNamespace = PineconeNamespace.Normalize(@namespace);
        foreach (var url in batches)
        {
            var body = await SendAsync(HttpMethod.Get, url, null, call, cancellationToken).ConfigureAwait(false);
            PineconeFetchParser.Parse(body, recordNamespace, context, result, call.What, call.Target);
        }
        return result;
    }

    /// <summary>The fetch URLs for <paramref name="ids"/>: at most MaxIdsPerFetch ids and MaxUrlLength characters each.</summary>
    internal List<Uri> SplitFetch(Uri indexUrl, string namespaceQuery, IReadOnlyList<string> ids)
    {
        var urls = new List<Uri>();
        var head = new Uri(indexUrl, "vectors/fetch").AbsoluteUri + "?" + namespaceQuery;
        var sb = new StringBuilder(head, Math.Min(Options.MaxUrlLength, 64 * 1024));
        var inBatch = 0;
        foreach (var id in ids)
        {
            var part = "ids=" + Uri.EscapeDataString(id);
            var sepLength = sb.Length > 0 && sb[^1] != '?' ? 1 : 0;
            if (inBatch > 0 && (inBatch >= Options.MaxIdsPerFetch || sb.Length + sepLength + part.Length > Options.MaxUrlLength))
            {
                urls.Add(new Uri(sb.ToString()));
                sb.Clear().Append(head);
                inBatch = 0;
                sepLength = sb[^1] != '?' ? 1 : 0;
            }
            // A single id always goes, even where it alone passes the limit (ids are at most 512 characters).
            if (sepLength == 1) sb.Append('&');
            sb.Append(part);
            inBatch++;
        }
        if (inBatch > 0) urls.Add(new Uri(sb.ToString()));
        return urls;
    }

    /// <summary>
    /// <c>POST /vectors/upsert</c>: writes <paramref name="vectors"/> into one namespace in one request (an
    /// existing id is overwritten whole) and checks that the server's <c>upsertedCount</c> is the number sent.
    /// The body is written with a <see cref="Utf8JsonWriter"/> into a pooled buffer; floats as the shortest text
    /// that reads back as the same float32; metadata as its own bytes (checked to be one JSON value). Values are
    /// not checked against Pinecone's limits here (<see cref="PineconeSink"/> does that, record by record).
    /// </summary>
    /// <param name="indexUrl">The index's data-plane url (<see cref="IndexUrl"/>).</param>
    /// <param name="namespace">The namespace; <c>""</c> or <c>"__default__"</c> for the default one (then not sent).</param>
    /// <param name="vectors">1 to 1,000 vectors, at most 2 MB serialized.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of vectors the server upserted.</returns>
    public async Task<long> UpsertAsync(Uri indexUrl, string @namespace, IReadOnlyList<PineconeUpsertVector> vectors,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(indexUrl);
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Count is < 1 or > MaxUpsertVectors)
        {
            throw new ArgumentOutOfRangeException(nameof(vectors), $"An upsert carries 1 to {MaxUpsertVectors} vectors (got {vectors.Count}).");
        }
        using var body = new PineconeUpsertBody();
        using var scratch = new PooledByteBuffer(16 * 1024);
        using var writer = new Utf8JsonWriter(scratch, PineconeUpsertJson.WriterOptions);
        body.Begin(PineconeNamespace.Normalize(@namespace));
        foreach (var v in vectors)
        {
            scratch.Clear();
            writer.Reset(scratch);
            try
            {
                PineconeUpsertJson.WriteVector(writer, v.Id, v.Values, v.SparseValues, v.Metadata, metadataChecked: false);
            }
            catch (Exception ex) when (ex is ArgumentException or JsonException or InvalidOperationException)
            {
                // NaN and infinity have no JSON form; metadata that is not one JSON value cannot be sent.
                throw new ArgumentException($"Vector '{v.Id}' cannot be written as upsert JSON: {ex.Message}", nameof(vectors), ex);
            }
            body.Append(scratch.WrittenSpan);
        }
        if (body.Length > MaxUpsertBytes)
        {
            throw new ArgumentException($"The upsert body is {body.Length} bytes; Pinecone takes at most {MaxUpsertBytes} (2 MB).", nameof(vectors));
        }
        return await SendUpsertAsync(indexUrl, body.Namespace, body.Finish(), vectors.Count, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a finished upsert body of <paramref name="count"/> vectors and checks <c>upsertedCount</c>.</summary>
    internal async Task<long> SendUpsertAsync(Uri indexUrl, string @namespace, ReadOnlyMemory<byte> body, int count, CancellationToken ct)
    {
        var url = new Uri(indexUrl, "vectors/upsert");
        var call = new Call(Operation.Upsert, $"Pinecone upsert of {count} vectors", DataTarget(indexUrl, @namespace), null, @namespace);
        var answer = await SendAsync(HttpMethod.Post, url, body, call, ct).ConfigureAwait(false);
        using var doc = ParseJson(answer, call);
        var root = ExpectObject(doc.RootElement, "the upsert response", call);
        long upserted = 0;
        if (root.TryGetProperty("upsertedCount", out var c))
        {
            // proto3 JSON may write 64-bit integers as strings; it leaves a zero count out.
            var ok = c.ValueKind switch
            {
                JsonValueKind.Number => c.TryGetInt64(out upserted),
                JsonValueKind.String => long.TryParse(c.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out upserted),
                JsonValueKind.Null => true,
                _ => false,
            };
            if (!ok) throw Invalid(call, "'upsertedCount' is not an integer");
        }
        if (upserted != count)
        {
            throw new VecMigrateException(FailureKind.InvalidResponse, PineconeErrorIds.UpsertCountMismatch,
                $"{call.What}: Pinecone reports {upserted} vectors upserted, not the {count} sent.", call.Target);
        }
        return upserted;
    }

    /// <summary>
    /// <c>POST /query</c> with a dense vector: the <paramref name="topK"/> most similar records of one namespace, ids
    /// and scores only, most similar first (the index's own search; Pinecone has no exact mode). Scores are Pinecone's:
    /// cosine similarity, the dot product, or for <c>euclidean</c> indexes the squared Euclidean distance (lower is
    /// nearer; Pinecone's docs, "Distance metrics" and "Query data").
    /// </summary>
    public async Task<IReadOnlyList<(string Id, double Score)>> QueryAsync(Uri indexUrl, string @namespace, float[] vector, int topK,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(indexUrl);
        ArgumentNullException.ThrowIfNull(vector);
        if (topK is < 1 or > 10_000) throw new ArgumentOutOfRangeException(nameof(topK), topK, "Pinecone returns 1 to 10,000 matches a query.");
        var body = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(body))
        {
            w.WriteStartObject();
            // The default namespace is addressed by leaving it out, as for every other call.
            if (!PineconeNamespace.IsDefault(@namespace)) w.WriteString("namespace", @namespace);
            w.WriteNumber("topK", topK);
            w.WriteStartArray("vector");
            foreach (var f in vector) w.WriteNumberValue(f);
            w.WriteEndArray();
            w.WriteBoolean("includeValues", false);
            w.WriteBoolean("includeMetadata", false);
            w.WriteEndObject();
        }
        var call = new Call(Operation.Query, "Pinecone query", DataTarget(indexUrl, @namespace), null, @namespace);
        var answer = await SendAsync(HttpMethod.Post, new Uri(indexUrl, "query"), body.WrittenMemory, call, cancellationToken).ConfigureAwait(false);
        using var doc = ParseJson(answer, call);
        var root = ExpectObject(doc.RootElement, "the query response", call);
        var matches = new List<(string, double)>();
        if (root.TryGetProperty("matches", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            if (m.ValueKind != JsonValueKind.Array) throw Invalid(call, "'matches' is not an array");
            foreach (var match in m.EnumerateArray())
            {
                if (match.ValueKind != JsonValueKind.Object || !match.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
                    throw Invalid(call, "a match has no string 'id'");
                // proto3 JSON leaves a zero score out.
                var score = match.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : 0;
                matches.Add((id.GetString()!, score));
            }
        }
        return matches;
    }

    // ---------------------------------------------------------------- HTTP

    private enum Operation
    {
        ListIndexes,
        DescribeIndex,
        Stats,
        List,
        Fetch,
        Upsert,
        Query,
    }

    // What: what the call is for, in messages and retry log lines. Target: the index name, or the index url
    // and namespace.
    private sealed record Call(Operation Op, string What, string Target, string? IndexName, string? Namespace);

    private static string DataTarget(Uri indexUrl, string @namespace) =>
        $"{indexUrl.AbsoluteUri.TrimEnd('/')} namespace '{PineconeNamespace.Normalize(@namespace)}'";

    private static void AppendNamespace(StringBuilder query, string @namespace)
    {
        // The default namespace is addressed by leaving the parameter out, which every API version and index
        // type understands ("" and "__default__" both mean it).
        if (!PineconeNamespace.IsDefault(@namespace)) AppendParam(query, "namespace", @namespace);
    }

    private static void AppendParam(StringBuilder query, string name, string value)
    {
        if (query.Length > 0) query.Append('&');
        // EscapeDataString leaves only RFC 3986 unreserved characters bare: space, '+', '&', '#', '%', '?', '/'
        // and non-ASCII (as UTF-8) all travel percent-encoded, so no server reads '+' as a space.
        query.Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }

    private static Uri BuildUrl(Uri baseUrl, string path, StringBuilder query)
    {
        var u = new Uri(baseUrl, path).AbsoluteUri;
        return new Uri(query.Length == 0 ? u : u + "?" + query);
    }

    private HttpRequestMessage MakeRequest(HttpMethod method, Uri url, ReadOnlyMemory<byte>? json)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.TryAddWithoutValidation("Api-Key", _apiKey.Reveal());
        request.Headers.TryAddWithoutValidation("X-Pinecone-Api-Version", ApiVersion);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (json is { } body)
        {
            request.Content = new ReadOnlyMemoryContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        return request;
    }

    private async Task<byte[]> SendAsync(HttpMethod method, Uri url, ReadOnlyMemory<byte>? json, Call call, CancellationToken ct)
    {
        using var response = await _transport.SendAsync(() => MakeRequest(method, url, json), call.What,
            PineconeErrorIds.TransportPrefix, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var text = await ReadErrorBodyAsync(response, ct).ConfigureAwait(false);
            throw MapError(response.StatusCode, VendorMessage(text), call);
        }
        return await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
    }

    private static async Task<string> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return text.Length > MaxErrorBodyChars ? text[..MaxErrorBodyChars] : text;
        }
        catch (HttpRequestException)
        {
            return "";
        }
    }

    /// <summary>
    /// The server's message from an error body: the control plane's <c>{"error": {"code", "message"}, "status"}</c>,
    /// the data plane's <c>rpcStatus</c> <c>{"code", "message", "details"}</c>, or the plain text the gateway answers
    /// 401 and rate-limit refusals with. Scrubbed of the api key, should a server ever echo it.
    /// </summary>
    private string? VendorMessage(string body)
    {
        var text = body.Trim();
        if (text.Length == 0) return null;
        string? message = null;
        if (text[0] == '{')
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                var root = doc.RootElement;
                if (root.TryGetProperty("error", out var error))
                {
                    if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                    {
                        var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                        message = code is null ? m.GetString() : $"{code}: {m.GetString()}";
                    }
                    else if (error.ValueKind == JsonValueKind.String)
                    {
                        message = error.GetString();
                    }
                }
                if (message is null && root.TryGetProperty("message", out var msg) && msg.ValueKind == JsonValueKind.String)
                {
                    message = msg.GetString();
                }
            }
            catch (JsonException)
            {
                // not JSON after all: keep the text
            }
        }
        message ??= text.Length > 500 ? text[..500] + "…" : text;
        return Scrub(message);
    }

    private string Scrub(string text)
    {
        var key = _apiKey.Reveal();
        return text.Contains(key, StringComparison.Ordinal) ? text.Replace(key, "(secret)", StringComparison.Ordinal) : text;
    }

    private VecMigrateException MapError(HttpStatusCode status, string? vendor, Call call)
    {
        var code = (int)status;
        var said = vendor is null ? $"HTTP {code}" : $"HTTP {code}: {vendor}";
        switch (code)
        {
            case 401 or 403:
                return new VecMigrateException(FailureKind.Unauthorized, PineconeErrorIds.Unauthorized,
                    $"{call.What}: Pinecone refused the API key ({said}). Check the key and that it belongs to the project of the index.",
                    call.Target);
            case 404 when call.Op == Operation.DescribeIndex:
                return new VecMigrateException(FailureKind.NotFound, PineconeErrorIds.IndexNotFound,
                    $"Pinecone has no index '{call.IndexName}' in the project of this API key ({said}).", call.Target);
            case 404 or 501 when call.Op == Operation.List:
                return ListNotAvailable(call, said);
            case 400 when call.Op == Operation.List && LooksLikeListUnsupported(vendor):
                return ListNotAvailable(call, said);
            case 404:
                return new VecMigrateException(FailureKind.NotFound, PineconeErrorIds.IndexNotFound,
                    $"{call.What}: no Pinecone index answers at {call.Target} ({said}).", call.Target);
            case 429:
                return new VecMigrateException(FailureKind.LimitExceeded, PineconeErrorIds.RateLimited,
                    $"{call.What}: Pinecone kept answering 429 (too many requests) after {_transport.Retry.MaxAttempts} attempts ({said}). " +
                    "Per-second limits pass with time; a monthly read-unit limit does not.", call.Target);
            case >= 500:
                return new VecMigrateException(FailureKind.Unreachable, PineconeErrorIds.ServerError,
                    $"{call.What}: Pinecone failed with a server error after {_transport.Retry.MaxAttempts} attempts ({said}).", call.Target);
            case 400:
                return new VecMigrateException(FailureKind.InvalidArgument, PineconeErrorIds.BadRequest,
                    $"{call.What}: Pinecone refused the request ({said}).", call.Target);
            default:
                return new VecMigrateException(FailureKind.InvalidResponse, PineconeErrorIds.UnexpectedStatus,
                    $"{call.What}: unexpected answer from Pinecone ({said}).", call.Target);
        }
    }

    private static bool LooksLikeListUnsupported(string? vendor) =>
        vendor is not null && (vendor.Contains("serverless", StringComparison.OrdinalIgnoreCase)
            || vendor.Contains("pod", StringComparison.OrdinalIgnoreCase)
            || vendor.Contains("not supported", StringComparison.OrdinalIgnoreCase)
            || vendor.Contains("unsupported", StringComparison.OrdinalIgnoreCase));

    private static VecMigrateException ListNotAvailable(Call call, string said) =>
        ListUnsupported(call.Target, $"{call.What} at {call.Target} failed ({said}).");

    /// <summary>The error for an index that cannot list ids, with what to do instead.</summary>
    internal static VecMigrateException ListUnsupported(string target, string detail) =>
        new(FailureKind.InvalidArgument, PineconeErrorIds.ListUnsupported,
            $"{detail} Pinecone lists record ids only for serverless indexes; pod-based indexes cannot enumerate ids. " +
            "Migrate from a serverless copy of the index (create a collection of the pod index, then a serverless index from it), " +
            "or supply the ids to read.", target);

    // ---------------------------------------------------------------- JSON helpers

    private static JsonDocument ParseJson(byte[] body, Call call)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new VecMigrateException(FailureKind.InvalidResponse, PineconeErrorIds.InvalidResponse,
                $"{call.What}: the answer is not valid JSON ({ex.Message})", call.Target, ex);
        }
    }

    private static JsonElement ExpectObject(JsonElement e, string what, Call call) =>
        e.ValueKind == JsonValueKind.Object ? e : throw Invalid(call, $"{what} is a JSON {e.ValueKind}, not an object");

    private static string RequiredString(JsonElement e, string name, Call call) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
            ? s
            : throw Invalid(call, $"'{name}' is missing or not a non-empty string");

    private static string? OptionalString(JsonElement e, string name, Call call)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Invalid(call, $"'{name}' is not a string");
    }

    private static VecMigrateException Invalid(Call call, string what) =>
        new(FailureKind.InvalidResponse, PineconeErrorIds.InvalidResponse, $"{call.What}: invalid answer from Pinecone: {what}.", call.Target);
}
