using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// A thin client of Qdrant's REST API (port 6333): list, describe and create collections, scroll and upsert points
/// (the writes are in QdrantClient.Writes.cs). Every call goes
/// through <see cref="RestTransport"/> (timeouts, bounded retries of 429/5xx and connection failures) and every
/// failure becomes a <see cref="VecMigrateException"/> with a stable id, the url as target and Qdrant's own
/// message. The API key travels only in the <c>api-key</c> header; it never reaches a message or a log line.
/// </summary>
public sealed partial class QdrantClient : IDisposable
{
    /// <summary>Qdrant's REST default.</summary>
    public static Uri DefaultUrl { get; } = new("http://localhost:6333/");

    private const string ErrorPrefix = "Qdrant";
    private const int MaxErrorBodyBytes = 64 * 1024;
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");

    private readonly RestTransport _transport;
    private readonly bool _ownsTransport;
    private readonly ApiSecret? _apiKey;
    private readonly ILogger _logger;
    private int _largestAnswer;

    /// <param name="baseUrl">Qdrant's REST url (default http://localhost:6333); http or https, optionally with a path prefix.</param>
    /// <param name="apiKey">Sent as the <c>api-key</c> header when given.</param>
    /// <param name="transport">Shared HTTP layer; the client makes (and disposes) its own when null.</param>
    public QdrantClient(Uri? baseUrl = null, ApiSecret? apiKey = null, RestTransport? transport = null)
    {
        // Credentials in the url (user:pass@) are neither sent nor shown.
        BaseUrl = CleanUrl(baseUrl ?? DefaultUrl, nameof(baseUrl));
        if (apiKey is not null)
        {
            foreach (var c in apiKey.Reveal())
            {
                // Refuse here what HttpClient would refuse later with the value in its message.
                if (c is < ' ' or > '~')
                    throw new ArgumentException("The API key holds a character that cannot be sent in an HTTP header.", nameof(apiKey));
            }
        }
        Endpoint = BaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
        _apiKey = apiKey;
        _ownsTransport = transport is null;
        _transport = transport ?? new RestTransport();
        _logger = _transport.Logger;
    }

    /// <summary>The REST root, with a trailing slash and without credentials.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The REST root as text without credentials or trailing slash: for origins, targets and messages.</summary>
    public string Endpoint { get; }

    /// <summary><c>GET /collections</c>: the names of all collections.</summary>
    public Task<IReadOnlyList<string>> ListCollectionsAsync(CancellationToken cancellationToken = default) =>
        _grpcUrl is { } grpcUrl ? ListCollectionsGrpcAsync(grpcUrl, cancellationToken) :
        SendAsync<IReadOnlyList<string>>(HttpMethod.Get, "collections", null, "Listing Qdrant collections", null, (body, invalid) =>
        {
            using var doc = ParseEnvelope(body, invalid, out var result);
            if (result.ValueKind != JsonValueKind.Object || !result.TryGetProperty("collections", out var list) || list.ValueKind != JsonValueKind.Array)
                throw invalid("`result.collections` is missing or not an array", null);
            var names = new List<string>(list.GetArrayLength());
            foreach (var c in list.EnumerateArray())
            {
                if (c.ValueKind != JsonValueKind.Object || !c.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
                    throw invalid("a collection in `result.collections` has no `name`", null);
                names.Add(n.GetString()!);
            }
            return names;
        }, cancellationToken);

    /// <summary><c>GET /collections/{name}</c>: the collection's size, state and vector spaces.</summary>
    public Task<QdrantCollectionInfo> GetCollectionAsync(string collection, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        if (_grpcUrl is { } grpcUrl) return GetCollectionGrpcAsync(grpcUrl, collection, cancellationToken);
        return SendAsync(HttpMethod.Get, CollectionPath(collection), null, $"Describing Qdrant collection '{collection}'", collection,
            (body, invalid) =>
            {
                using var doc = ParseEnvelope(body, invalid, out var result);
                return QdrantCollectionInfo.Parse(collection, result, m => invalid(m, null));
            }, cancellationToken);
    }

    /// <summary>
    /// <c>POST /collections/{name}/points/scroll</c>: one page of points in id order (all integer ids ascending,
    /// then all UUIDs), starting at <see cref="QdrantScrollRequest.Offset"/> inclusive.
    /// </summary>
    public Task<QdrantScrollPage> ScrollAsync(string collection, QdrantScrollRequest request, CancellationToken cancellationToken = default) =>
        ScrollAsync(collection, request, default, cancellationToken);

    internal Task<QdrantScrollPage> ScrollAsync(string collection, QdrantScrollRequest request, RecordStamp stamp, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        if (_grpcUrl is { } grpcUrl) return ScrollGrpcAsync(grpcUrl, collection, request, stamp, cancellationToken);
        return SendAsync(HttpMethod.Post, CollectionPath(collection) + "/points/scroll", request.ToJson(),
            $"Scrolling Qdrant collection '{collection}'", collection,
            (body, invalid) => QdrantScrollParser.Parse(body.Span, stamp, invalid), cancellationToken);
    }

    private static string CollectionPath(string collection) => "collections/" + Uri.EscapeDataString(collection);

    /// <summary>Hands the answer's bytes to a parser; the bytes are pooled and must not outlive the call.</summary>
    internal delegate T AnswerParser<T>(ReadOnlyMemory<byte> body, Func<string, Exception?, Exception> invalid);

    /// <summary>
    /// One call: sends <paramref name="body"/> (JSON) to <paramref name="path"/>, turns a failure status into the
    /// matching error, and parses a success. An answer that breaks off mid-body is asked for again (reads and
    /// upserts by id are idempotent), bounded by the transport's retry policy. <c>collection</c> names the
    /// collection the call concerns, so that a 404 reads as "collection not found".
    /// </summary>
    internal Task<T> SendAsync<T>(HttpMethod method, string path, ReadOnlyMemory<byte>? body, string what, string? collection,
        AnswerParser<T> parse, CancellationToken cancellationToken)
    {
        var url = new Uri(BaseUrl, path);
        var target = url.GetLeftPart(UriPartial.Path);
        var started = Stopwatch.GetTimestamp();
        // Uncompressed: Qdrant gzips any answer whose request accepts it (actix's Compress middleware), and a scroll
        // page is megabytes of decimal floats that cost both sides far more CPU to deflate and inflate than to carry.
        // The answer is read inside the transport's one retry loop: a body that breaks off is asked for again there.
        return _transport.SendAsync(() => MakeRequest(method, url, body), what, ErrorPrefix, async (response, ct) =>
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await FailureAsync(response, what, target, collection, ct).ConfigureAwait(false);
            }
            var (buffer, length) = await ReadAnswerAsync(response.Content, ct).ConfigureAwait(false);
            try
            {
                QdrantLog.Answered(_logger, method.Method, target, (int)response.StatusCode, length, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return parse(buffer.AsMemory(0, length), (message, inner) => InvalidResponse(what, target, message, inner));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }, cancellationToken, HttpCompletionOption.ResponseHeadersRead, compressed: false);
    }

    private HttpRequestMessage MakeRequest(HttpMethod method, Uri url, ReadOnlyMemory<byte>? body)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_apiKey is not null) request.Headers.TryAddWithoutValidation("api-key", _apiKey.Reveal());
        if (body is { } bytes)
        {
            // Over the caller's (pooled) buffer, no copy; made anew for each attempt.
            request.Content = new ReadOnlyMemoryContent(bytes);
            request.Content.Headers.ContentType = JsonMediaType;
        }
        return request;
    }

    /// <summary>Reads the whole answer into a pooled buffer (within the attempt's timeout, which the token carries).</summary>
    private async Task<(byte[] Buffer, int Length)> ReadAnswerAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var expected = content.Headers.ContentLength;
        // Without a length (Qdrant streams its answers chunked), start at the largest answer so far: pages of a read
        // are alike, and growing a 3 MB page from 64 KB copies it about once more.
        var buffer = ArrayPool<byte>.Shared.Rent(expected is > 0 and < int.MaxValue ? (int)expected.Value + 1 : Math.Max(64 * 1024, Volatile.Read(ref _largestAnswer) + 1));
        var used = 0;
        try
        {
            var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                while (true)
                {
                    if (used == buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(checked(buffer.Length * 2));
                        buffer.AsSpan(0, used).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    var n = await stream.ReadAsync(buffer.AsMemory(used), cancellationToken).ConfigureAwait(false);
                    if (n == 0) break;
                    used += n;
                }
            }
            if (used > Volatile.Read(ref _largestAnswer)) Volatile.Write(ref _largestAnswer, used);
            return (buffer, used);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static JsonDocument ParseEnvelope(ReadOnlyMemory<byte> body, Func<string, Exception?, Exception> invalid, out JsonElement result)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            throw invalid($"the answer is not valid JSON ({ex.Message})", ex);
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("result", out result))
        {
            doc.Dispose();
            throw invalid("the answer has no `result`", null);
        }
        return doc;
    }

    private Exception InvalidResponse(string what, string target, string message, Exception? inner) =>
        new VecMigrateException(FailureKind.InvalidResponse, "QdrantInvalidResponse",
            $"{what}: the answer is not what Qdrant's API promises: {Scrub(message)}.", target, inner);

    /// <summary>Maps a failure status to a specific error carrying Qdrant's own message.</summary>
    private async Task<Exception> FailureAsync(HttpResponseMessage response, string what, string target, string? collection, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var serverMessage = await ReadErrorMessageAsync(response.Content, cancellationToken).ConfigureAwait(false);
        var detail = serverMessage is null ? $"HTTP {status}" : $"HTTP {status}: {serverMessage}";
        return status switch
        {
            // Qdrant answers a missing or unknown key with 401 and a plain-text body ("Must provide an API key or
            // an Authorization bearer token", "Invalid API key or JWT"); a read-only key used for a write, a JWT
            // without access, or Qdrant Cloud's gateway ({"error":"..."}) with 403.
            401 or 403 => new VecMigrateException(FailureKind.Unauthorized, "QdrantUnauthorized",
                _apiKey is null
                    ? $"{what}: Qdrant refused the request without an API key; give one ({detail})."
                    : $"{what}: Qdrant refused the API key ({detail}).", target),
            // Qdrant: 404 {"status":{"error":"Not found: Collection `x` doesn't exist!"}}.
            404 when collection is not null => new VecMigrateException(FailureKind.NotFound, "QdrantCollectionNotFound",
                $"{what}: the collection '{collection}' does not exist at {Endpoint} ({detail}).", target),
            404 => new VecMigrateException(FailureKind.NotFound, "QdrantNotFound",
                $"{what}: there is no Qdrant REST API at {target} ({detail}).", target),
            // 400: a body Qdrant cannot read (unknown filter field, bad id, oversize: the default limit of a
            // request is 32 MB, service.max_request_size_mb); 422: a value out of range (limit 0). 409: exists.
            400 or 409 or 422 => new VecMigrateException(FailureKind.InvalidArgument, "QdrantBadRequest",
                $"{what}: Qdrant refused the request ({detail}).", target),
            413 => new VecMigrateException(FailureKind.LimitExceeded, "QdrantRequestTooLarge",
                $"{what}: the request is larger than Qdrant accepts ({detail}).", target),
            429 => new VecMigrateException(FailureKind.LimitExceeded, "QdrantRateLimited",
                $"{what}: Qdrant kept asking to slow down after {_transport.Retry.MaxAttempts} attempt(s) ({detail}).", target),
            >= 500 => new VecMigrateException(FailureKind.Unreachable, "QdrantServerError",
                $"{what}: Qdrant failed ({detail}).", target),
            _ => new VecMigrateException(FailureKind.InvalidResponse, "QdrantInvalidResponse",
                $"{what}: unexpected answer ({detail}).", target),
        };
    }

    /// <summary>
    /// Qdrant's message from an error answer: <c>status.error</c> of its JSON envelope, Qdrant Cloud's
    /// <c>error</c>, or a short plain-text body. Null when there is none.
    /// </summary>
    private async Task<string?> ReadErrorMessageAsync(HttpContent content, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxErrorBodyBytes);
        try
        {
            var used = 0;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_transport.Timeout);
            var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                int n;
                while (used < MaxErrorBodyBytes && (n = await stream.ReadAsync(buffer.AsMemory(used, MaxErrorBodyBytes - used), timeout.Token).ConfigureAwait(false)) > 0)
                    used += n;
            }
            return ExtractMessage(buffer.AsSpan(0, used));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null; // the status alone still says what went wrong
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal string? ExtractMessage(ReadOnlySpan<byte> body)
    {
        body = body.Trim(" \t\r\n"u8);
        if (body.IsEmpty) return null;
        string? message = null;
        if (body[0] == (byte)'{')
        {
            try
            {
                var r = new Utf8JsonReader(body);
                using var doc = JsonDocument.ParseValue(ref r);
                var root = doc.RootElement;
                if (root.TryGetProperty("status", out var st) && st.ValueKind == JsonValueKind.Object
                    && st.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String)
                    message = e.GetString();
                else if (root.TryGetProperty("error", out var e2) && e2.ValueKind == JsonValueKind.String)
                    message = e2.GetString();
                else if (root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                    message = m.GetString();
            }
            catch (JsonException)
            {
                // not JSON after all: fall back to the text
            }
        }
        if (message is null && body[0] != (byte)'<') // an HTML error page from a proxy says nothing useful
        {
            message = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 1000)]);
        }
        if (message is null) return null;
        message = message.Trim();
        if (message.Length > 500) message = message[..500] + "…";
        return message.Length == 0 ? null : Scrub(message);
    }

    /// <summary>Removes the API key from text that came from elsewhere (a server echoing a header, say).</summary>
    internal string Scrub(string text) =>
        _apiKey is null ? text : text.Replace(_apiKey.Reveal(), "(secret)", StringComparison.Ordinal);

    public void Dispose()
    {
        DisposeGrpc();
        if (_ownsTransport) _transport.Dispose();
    }
}

/// <summary>Nearest-neighbour search through Qdrant's Query API (for search parity).</summary>
public sealed partial class QdrantClient
{
    /// <summary>
    /// <c>POST /collections/{name}/points/query</c> with a dense query vector: the <paramref name="limit"/> nearest
    /// points (ids and scores only, best first), in the named vector space (<paramref name="vector"/>, "" for the
    /// unnamed one), optionally only those whose payload field <paramref name="filterField"/> equals
    /// <paramref name="filterValue"/>; <paramref name="exact"/> asks for a full scan instead of the HNSW index.
    /// Scores are Qdrant's own: cosine similarity, inner product, or the Euclid / Manhattan distance.
    /// </summary>
    public Task<IReadOnlyList<(PointId Id, double Score)>> QueryAsync(string collection, string vector, float[] query, int limit, bool exact,
        string? filterField = null, string? filterValue = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        ArgumentNullException.ThrowIfNull(query);
        var body = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(body))
        {
            w.WriteStartObject();
            w.WriteStartArray("query");
            foreach (var f in query) w.WriteNumberValue(f);
            w.WriteEndArray();
            if (vector.Length > 0) w.WriteString("using", vector);
            if (filterField is not null)
            {
                w.WriteStartObject("filter");
                w.WriteStartArray("must");
                w.WriteStartObject();
                w.WriteString("key", filterField);
                w.WriteStartObject("match");
                w.WriteString("value", filterValue);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteStartObject("params");
            w.WriteBoolean("exact", exact);
            w.WriteEndObject();
            w.WriteNumber("limit", limit);
            w.WriteBoolean("with_payload", false);
            w.WriteBoolean("with_vector", false);
            w.WriteEndObject();
        }
        return SendAsync<IReadOnlyList<(PointId, double)>>(HttpMethod.Post, CollectionPath(collection) + "/points/query", body.WrittenMemory,
            $"Searching Qdrant collection '{collection}'", collection, (answer, invalid) =>
            {
                using var doc = ParseEnvelope(answer, invalid, out var result);
                if (result.ValueKind != JsonValueKind.Object || !result.TryGetProperty("points", out var points) || points.ValueKind != JsonValueKind.Array)
                    throw invalid("`result.points` is missing or not an array", null);
                var hits = new List<(PointId, double)>(points.GetArrayLength());
                foreach (var p in points.EnumerateArray())
                {
                    if (p.ValueKind != JsonValueKind.Object || !p.TryGetProperty("id", out var id) || !p.TryGetProperty("score", out var score) || score.ValueKind != JsonValueKind.Number)
                        throw invalid("a point in `result.points` has no `id` or numeric `score`", null);
                    PointId pid = id.ValueKind switch
                    {
                        JsonValueKind.Number when id.TryGetUInt64(out var n) => PointId.FromUnsigned(n),
                        JsonValueKind.String when Guid.TryParse(id.GetString(), out var g) => PointId.FromUuid(g),
                        _ => throw invalid($"a point id ({id.GetRawText()}) is neither an unsigned integer nor a UUID", null),
                    };
                    hits.Add((pid, score.GetDouble()));
                }
                return hits;
            }, cancellationToken);
    }
}
