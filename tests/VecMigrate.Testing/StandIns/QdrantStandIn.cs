using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.Contracts;

namespace VecMigrate.Testing.StandIns;

/// <summary>A dense (or multi-) vector space of a stand-in collection; Name "" alone makes the collection's unnamed vector.</summary>
public sealed record QdrantStandInVector(string Name, int Size, string Distance = "Cosine", string? Datatype = null, bool Multivector = false);

/// <summary>One upsert request the stand-in answered: its body's size and how many points it held.</summary>
public readonly record struct QdrantStandInUpsert(long Bytes, int Points);

/// <summary>A sparse vector space of a stand-in collection.</summary>
public sealed record QdrantStandInSparse(string Name, string? Modifier = null);

/// <summary>One injected fault: a status with an optional Retry-After, a slow answer, or an answer cut off part-way.</summary>
internal sealed record QdrantStandInFault(int Status, TimeSpan? RetryAfter, string? PathEndsWith, TimeSpan Slow = default, double? CutAt = null);

/// <summary>
/// Failures the stand-in answers with, in the order they were asked for: the next N requests (optionally only those
/// whose path ends with a given text) get a status (429, 503, ...) with an optional Retry-After, or a slow answer, or
/// an answer whose connection breaks part-way through its body; every answer can be delayed.
/// </summary>
public sealed class QdrantStandInFaults
{
    private readonly object _gate = new();
    private readonly Queue<QdrantStandInFault> _queue = new();
    private int _injected;

    /// <summary>The next <paramref name="count"/> matching requests fail with <paramref name="statusCode"/>.</summary>
    public void FailNext(int count, int statusCode = 503, TimeSpan? retryAfter = null, string? pathEndsWith = null) =>
        Enqueue(count, new QdrantStandInFault(statusCode, retryAfter, pathEndsWith));

    /// <summary>
    /// The next <paramref name="count"/> matching requests are answered in full (status, headers, Content-Length), but
    /// the connection is aborted after <paramref name="fraction"/> of the body: a connection cut mid-answer.
    /// </summary>
    public void CutNext(int count, double fraction = 0.5, string? pathEndsWith = null)
    {
        if (fraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(fraction), "Cut somewhere in the body: 0 <= fraction < 1.");
        Enqueue(count, new QdrantStandInFault(200, null, pathEndsWith, CutAt: fraction));
    }

    /// <summary>The next <paramref name="count"/> matching requests wait <paramref name="delay"/> before the answer (past a client's timeout, say).</summary>
    public void SlowNext(int count, TimeSpan delay, string? pathEndsWith = null) =>
        Enqueue(count, new QdrantStandInFault(200, null, pathEndsWith, Slow: delay));

    private void Enqueue(int count, QdrantStandInFault fault)
    {
        lock (_gate)
        {
            for (var i = 0; i < count; i++) _queue.Enqueue(fault);
        }
    }

    /// <summary>Waited before every answer.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>How many failures have been served.</summary>
    public int Injected => Volatile.Read(ref _injected);

    public void Clear()
    {
        lock (_gate) _queue.Clear();
        Delay = TimeSpan.Zero;
    }

    internal bool TryTake(string path, out QdrantStandInFault fault)
    {
        lock (_gate)
        {
            if (_queue.TryPeek(out var f) && (f.PathEndsWith is null || path.EndsWith(f.PathEndsWith, StringComparison.Ordinal)))
            {
                _queue.Dequeue();
                _injected++;
                fault = f;
                return true;
            }
        }
        fault = null!;
        return false;
    }
}

/// <summary>
/// An in-memory Qdrant REST server (the subset VecMigrate uses) that answers as Qdrant 1.19 does and as its
/// OpenAPI document (/work/shared/contracts/qdrant-openapi.json) describes: GET /collections,
/// GET|PUT|DELETE /collections/{name}, POST /collections/{name}/points/scroll, POST /collections/{name}/points/query (dense, exact), PUT /collections/{name}/points;
/// and, on a second listener (<see cref="GrpcBaseAddress"/>, cleartext HTTP/2), gRPC qdrant.Points/Scroll
/// (QdrantStandIn.Grpc.cs).
/// </summary>
/// <remarks>
/// Behaviour copied from real Qdrant (qdrant/qdrant, read for this): scroll order is all integer ids ascending,
/// then UUIDs by their bytes; <c>offset</c> is inclusive; <c>next_page_offset</c> is the id of the first point not
/// returned (Qdrant fetches limit + 1); <c>payload</c>/<c>vector</c> are omitted when not asked for, and a point
/// without payload has <c>{}</c>; errors are <c>{"status":{"error":".."},"time":..}</c> with Qdrant's wording; a
/// missing or wrong api-key gets 401 with a plain-text body (Qdrant's auth middleware does not use the JSON
/// envelope); request bodies over 32 MB (service.max_request_size_mb) get 400; filters accept only
/// must/should/must_not/min_should (unknown fields 400). Floats are written as the shortest text that
/// round-trips a float32, as serde_json does. Where it differs: payloads are kept as the bytes given (Qdrant
/// re-serializes them: integers beyond 64 bits become floats); filters support only <c>match.value</c> on a
/// (dotted) payload key, <c>has_id</c> and nested filters, and payload selection only top-level keys;
/// other Qdrant features answer 400 naming the stand-in.
/// <para>
/// Upserts preprocess vectors as Qdrant's segments do (lib/segment NamedVectors::preprocess): in a Cosine space
/// every dense vector and every row of a multivector is scaled to unit length with Qdrant's portable float32
/// arithmetic (spaces/simple.rs <c>cosine_preprocess</c>: squares summed in order, left alone when the sum is under
/// 2^-23 or within 1e-6 of 1, else each element divided by the sum's square root); sparse vectors are sorted by
/// index. Real Qdrant on x86-64 sums 16+ dimensions with SSE and 32+ with AVX+FMA in another order, so its last
/// bits can differ from the stand-in's. <see cref="Seed"/> stores vectors as given unless asked to preprocess.
/// </para>
/// </remarks>
public sealed partial class QdrantStandIn : IAsyncDisposable
{
    public const long DefaultMaxRequestBytes = 32L * 1024 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly ConcurrentDictionary<string, Collection> _collections = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _scrollBodies = new();
    private readonly ConcurrentQueue<QdrantStandInUpsert> _upserts = new();
    private readonly ConditionalWeakTable<VectorValue, byte[]> _rendered = new();
    private StandInHost _host = null!;
    private int _scrolls;
    private int _requests;
    private long _pointsServed;

    private QdrantStandIn() { }

    /// <param name="apiKey">When set, every request needs it in <c>api-key</c> (or <c>Authorization: Bearer</c>).</param>
    /// <param name="configure">Middleware that runs before the stand-in (fault injection, say).</param>
    /// <param name="contracts">Checks every exchange against Qdrant's document (<c>VendorContracts.QdrantCheck()</c>);
    /// the findings are in <see cref="Contracts"/>. Null: no checks.</param>
    /// <param name="sampling">Which exchanges to check; all by default.</param>
    public static async Task<QdrantStandIn> StartAsync(string? apiKey = null, Action<WebApplication>? configure = null,
        ContractCheck? contracts = null, ContractSampling? sampling = null)
    {
        var standIn = new QdrantStandIn { ApiKey = apiKey };
        standIn._host = await StandInHost.StartAsync(app =>
        {
            configure?.Invoke(app);
            app.Use(standIn.CompressAsync);
            app.Run(standIn.HandleAsync);
        }, contracts, sampling).ConfigureAwait(false);
        standIn._grpcHost = await StandInHost.StartAsync(app => app.Run(standIn.HandleGrpcAsync),
            protocols: Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2).ConfigureAwait(false);
        return standIn;
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseAddress => _host.BaseAddress;

    /// <summary>REST answers sent compressed because the request accepted it.</summary>
    public int CompressedAnswers => Volatile.Read(ref _compressedAnswers);

    private int _compressedAnswers;

    /// <summary>
    /// Real Qdrant wraps its REST API in actix-web's <c>Compress</c> middleware (src/actix/mod.rs): an answer is
    /// encoded with what the request's Accept-Encoding prefers (highest quality; br before gzip before deflate on
    /// ties), and sent as it is when the request accepts only identity or asks for nothing. (zstd, which actix also
    /// offers, is left out here.)
    /// </summary>
    private async Task CompressAsync(HttpContext ctx, Func<Task> next)
    {
        var encoding = ChooseEncoding(ctx.Request.Headers.AcceptEncoding.ToString());
        if (encoding is null)
        {
            await next().ConfigureAwait(false);
            return;
        }
        var original = ctx.Response.Body;
        Stream compressed = encoding switch
        {
            "br" => new System.IO.Compression.BrotliStream(original, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true),
            "gzip" => new System.IO.Compression.GZipStream(original, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true),
            _ => new System.IO.Compression.ZLibStream(original, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true),
        };
        ctx.Response.OnStarting(() =>
        {
            ctx.Response.Headers.ContentEncoding = encoding;
            ctx.Response.Headers.ContentLength = null;
            ctx.Response.Headers.Vary = "accept-encoding";
            return Task.CompletedTask;
        });
        ctx.Response.Body = compressed;
        try
        {
            await next().ConfigureAwait(false);
            await ctx.Response.BodyWriter.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            await compressed.DisposeAsync().ConfigureAwait(false);
            ctx.Response.Body = original;
        }
        Interlocked.Increment(ref _compressedAnswers);
    }

    /// <summary>The encoding an Accept-Encoding value asks for, or null for none (identity).</summary>
    public static string? ChooseEncoding(string acceptEncoding)
    {
        string? best = null;
        var bestQuality = 0.0;
        var bestRank = int.MaxValue;
        foreach (var part in acceptEncoding.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(';', StringSplitOptions.TrimEntries);
            var name = pieces[0].ToLowerInvariant();
            var quality = 1.0;
            foreach (var p in pieces.Skip(1))
            {
                if (p.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                    && double.TryParse(p[2..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var q)) quality = q;
            }
            var rank = name switch { "br" => 0, "gzip" => 1, "deflate" => 2, _ => -1 };
            if (rank < 0 || quality <= 0) continue;
            if (quality > bestQuality || (quality == bestQuality && rank < bestRank))
            {
                best = name;
                bestQuality = quality;
                bestRank = rank;
            }
        }
        return best;
    }

    /// <summary>What the contract check found, when the stand-in was started with one.</summary>
    public ContractCheckMiddleware? Contracts => _host.Contracts;

    public string? ApiKey { get; set; }

    public QdrantStandInFaults Faults { get; } = new();

    /// <summary>Requests over this size get Qdrant's 400 "JSON payload ... is larger than allowed".</summary>
    public long MaxRequestBytes { get; set; } = DefaultMaxRequestBytes;

    /// <summary>Scroll requests answered (faults not counted).</summary>
    public int ScrollRequests => Volatile.Read(ref _scrolls);

    /// <summary>Removes one point behind the API's back (a damaged copy, for tests); false when it was not there.</summary>
    public bool Delete(string collection, PointId id) => Get(collection).Remove(id);

    /// <summary>All requests received, faults included.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Points put into scroll answers, answers cut off or abandoned by the client included: what readers read.</summary>
    public long PointsServed => Interlocked.Read(ref _pointsServed);

    /// <summary>The JSON bodies of the scroll requests answered, oldest first.</summary>
    public IReadOnlyList<string> ScrollBodies => _scrollBodies.ToArray();

    /// <summary>The upsert requests answered with success (faults and refusals not counted), oldest first.</summary>
    public IReadOnlyList<QdrantStandInUpsert> Upserts => _upserts.ToArray();

    // ---------------------------------------------------------------- seeding and inspection

    public void CreateCollection(string name, params QdrantStandInVector[] vectors) => CreateCollection(name, vectors, null);

    public void CreateCollection(string name, IReadOnlyList<QdrantStandInVector> vectors, IReadOnlyList<QdrantStandInSparse>? sparse)
    {
        var error = Collection.TryCreate(name, vectors, sparse ?? [], out var collection);
        if (error is not null) throw new ArgumentException(error);
        if (!_collections.TryAdd(name, collection!)) throw new ArgumentException($"Collection `{name}` already exists!");
    }

    public bool DropCollection(string name) => _collections.TryRemove(name, out _);

    /// <summary>
    /// When true, <see cref="Seed"/> renders each vector's JSON text (and its gRPC protobuf, and each payload's) once, and scrolls copy those bytes instead of
    /// formatting every float again (about 200 ns a float: 1,024 dimensions cost the stand-in more than the client
    /// under test). The answers are byte for byte the same. For benchmarks, where the stand-in shares the machine
    /// with the code it measures and real Qdrant would run elsewhere. Vectors seeded so must not be changed later.
    /// Records that share one vector object share its text.
    /// </summary>
    public bool PreRender { get; set; }

    /// <summary>
    /// Stores records with their vectors checked against the collection's config. With <paramref name="preprocess"/>
    /// the vectors are also preprocessed as an upsert would (cosine normalization); without it they are stored as
    /// given, as test data that is taken to be what the collection holds.
    /// </summary>
    public void Seed(string collection, IEnumerable<VectorRecord> records, bool preprocess = false)
    {
        var c = Get(collection);
        var points = new List<Point>();
        foreach (var r in records)
        {
            if (r.Id.Kind is not (PointIdKind.Unsigned or PointIdKind.Uuid)) throw new ArgumentException($"Qdrant ids are integers or UUIDs, not {r.Id}.");
            var vectors = new Dictionary<string, VectorValue>(r.Vectors, StringComparer.Ordinal);
            var error = c.Check(vectors);
            if (error is not null) throw new ArgumentException($"Point {r.Id}: {error}");
            points.Add(new Point(r.Id, preprocess ? c.Preprocess(vectors) : SortSparse(vectors), r.Payload?.Utf8Json.ToArray()));
        }
        if (PreRender)
        {
            var values = points.SelectMany(p => p.Vectors.Values).Distinct<VectorValue>(ReferenceEqualityComparer.Instance);
            Parallel.ForEach(values, v =>
            {
                _rendered.AddOrUpdate(v, Render(v));
                _grpcRendered.AddOrUpdate(v, RenderGrpc(v));
            });
            Parallel.ForEach(points, p =>
            {
                if (p.Payload is { } payload) _grpcPayloads.GetValue(payload, EncodePayload);
            });
        }
        c.Upsert(points);
    }

    /// <summary>What the collection holds, in Qdrant's scroll order.</summary>
    public IReadOnlyList<VectorRecord> Points(string collection)
    {
        var c = Get(collection);
        return c.Snapshot().Select(p => new VectorRecord(p.Id, new Dictionary<string, VectorValue>(p.Vectors, StringComparer.Ordinal),
            p.Payload is null ? null : new JsonPayload(p.Payload))).ToList();
    }

    public int Count(string collection) => Get(collection).Count;

    public IReadOnlyCollection<string> Collections => _collections.Keys.ToArray();

    private Collection Get(string name) =>
        _collections.TryGetValue(name, out var c) ? c : throw new ArgumentException($"The stand-in has no collection `{name}`.");

    // ---------------------------------------------------------------- HTTP

    private async Task HandleAsync(HttpContext ctx)
    {
        var started = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _requests);
        var path = (ctx.Request.Path.Value ?? "/").TrimEnd('/'); // Qdrant normalizes trailing slashes away
        if (Faults.Delay > TimeSpan.Zero) await Task.Delay(Faults.Delay, ctx.RequestAborted).ConfigureAwait(false);
        if (Faults.TryTake(path, out var fault))
        {
            if (fault.Slow > TimeSpan.Zero)
            {
                await Task.Delay(fault.Slow, ctx.RequestAborted).ConfigureAwait(false);
            }
            else if (fault.CutAt is { } cutAt)
            {
                await AnswerCutAsync(ctx, path, started, cutAt).ConfigureAwait(false);
                return;
            }
            else
            {
                if (fault.RetryAfter is { } ra) ctx.Response.Headers.RetryAfter = ((int)Math.Ceiling(ra.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await WriteErrorAsync(ctx, fault.Status, fault.Status == 429
                    ? "Rate limiting exceeded: injected by the Qdrant stand-in"
                    : "Service unavailable: injected by the Qdrant stand-in", started).ConfigureAwait(false);
                return;
            }
        }
        await AnswerAsync(ctx, path, started).ConfigureAwait(false);
    }

    /// <summary>Answers as usual into a buffer, then sends the head and part of the body, and aborts the connection.</summary>
    private async Task AnswerCutAsync(HttpContext ctx, string path, long started, double cutAt)
    {
        var original = ctx.Response.Body;
        using var buffer = new MemoryStream();
        ctx.Response.Body = buffer;
        try
        {
            await AnswerAsync(ctx, path, started).ConfigureAwait(false);
            await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            ctx.Response.Body = original;
        }
        var body = buffer.ToArray();
        ctx.Response.ContentLength = body.Length; // the client expects all of it
        await original.WriteAsync(body.AsMemory(0, (int)(body.Length * cutAt)), ctx.RequestAborted).ConfigureAwait(false);
        await original.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
        // Let the part reach the client first: an abort resets the connection and drops what is still unsent.
        await Task.Delay(50, ctx.RequestAborted).ConfigureAwait(false);
        ctx.Abort();
    }

    private async Task AnswerAsync(HttpContext ctx, string path, long started)
    {
        if (ApiKey is { } key)
        {
            var given = ctx.Request.Headers["api-key"].FirstOrDefault();
            if (given is null && ctx.Request.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal))
                given = auth["Bearer ".Length..];
            if (given != key)
            {
                // Qdrant's auth middleware answers with a plain-text body, not the JSON envelope, and no
                // Content-Type (actix's HttpResponse::Unauthorized().body(..) sets none).
                ctx.Response.StatusCode = 401;
                await ctx.Response.WriteAsync(given is null ? "Must provide an API key or an Authorization bearer token" : "Invalid API key or JWT").ConfigureAwait(false);
                return;
            }
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = ctx.Request.Method;
        try
        {
            switch (parts)
            {
                case ["collections"] when method == "GET":
                    await WriteOkAsync(ctx, started, w =>
                    {
                        w.WriteStartObject();
                        w.WriteStartArray("collections");
                        foreach (var name in _collections.Keys.Order(StringComparer.Ordinal))
                        {
                            w.WriteStartObject();
                            w.WriteString("name", name);
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }).ConfigureAwait(false);
                    return;
                case ["collections", var name] when method == "GET":
                    if (!Find(name, out var info)) break;
                    await WriteOkAsync(ctx, started, info.WriteInfo).ConfigureAwait(false);
                    return;
                case ["collections", var name] when method == "PUT":
                    await CreateAsync(ctx, name, started).ConfigureAwait(false);
                    return;
                case ["collections", var name] when method == "DELETE":
                    var dropped = _collections.TryRemove(name, out _);
                    await WriteOkAsync(ctx, started, w => w.WriteBooleanValue(dropped)).ConfigureAwait(false);
                    return;
                case ["collections", var name, "points", "scroll"] when method == "POST":
                    if (!Find(name, out var scrolled)) break;
                    await ScrollAsync(ctx, scrolled, started).ConfigureAwait(false);
                    return;
                case ["collections", var name, "points", "query"] when method == "POST":
                    if (!Find(name, out var searched)) break;
                    await QueryAsync(ctx, searched, started).ConfigureAwait(false);
                    return;
                case ["collections", var name, "points"] when method == "PUT":
                    if (!Find(name, out var target)) break;
                    await UpsertAsync(ctx, target, started).ConfigureAwait(false);
                    return;
                default:
                    ctx.Response.StatusCode = 404; // actix: unknown route, empty body
                    return;
            }
            await WriteErrorAsync(ctx, 404, $"Not found: Collection `{parts[1]}` doesn't exist!", started).ConfigureAwait(false);
        }
        catch (BadRequest e)
        {
            await WriteErrorAsync(ctx, e.Status, e.Message, started).ConfigureAwait(false);
        }
    }

    private bool Find(string name, out Collection collection) => _collections.TryGetValue(name, out collection!);

    private sealed class BadRequest(int status, string message) : Exception(message)
    {
        public int Status { get; } = status;
    }

    private static BadRequest Format(string what) => new(400, "Format error in JSON body: " + what);

    private static BadRequest WrongInput(string what) => new(400, "Wrong input: " + what);

    private static BadRequest Unsupported(string what) => new(400, $"Bad request: the Qdrant stand-in does not support {what}");

    private async Task<JsonDocument> ReadJsonAsync(HttpContext ctx, Action<long>? measured = null)
    {
        var limit = MaxRequestBytes;
        if (ctx.Request.ContentLength is { } declared && declared > limit)
            throw new BadRequest(400, $"JSON payload ({declared} bytes) is larger than allowed (limit: {limit} bytes).");
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(chunk, ctx.RequestAborted).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > limit) throw new BadRequest(400, $"JSON payload is larger than allowed (limit: {limit} bytes).");
        }
        measured?.Invoke(buffer.Length);
        try
        {
            return JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length).ToArray(), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw Format(e.Message);
        }
    }

    private static async Task WriteOkAsync(HttpContext ctx, long started, Action<Utf8JsonWriter> writeResult)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, WriterOptions);
        w.WriteStartObject();
        w.WritePropertyName("result");
        writeResult(w);
        WriteTail(w, started);
        await w.FlushAsync().ConfigureAwait(false);
    }

    private static void WriteTail(Utf8JsonWriter w, long started)
    {
        w.WriteString("status", "ok");
        w.WriteNumber("time", Stopwatch.GetElapsedTime(started).TotalSeconds);
        w.WriteEndObject();
    }

    private static async Task WriteErrorAsync(HttpContext ctx, int status, string message, long started)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, WriterOptions);
        w.WriteStartObject();
        w.WriteStartObject("status");
        w.WriteString("error", message);
        w.WriteEndObject();
        w.WriteNumber("time", Stopwatch.GetElapsedTime(started).TotalSeconds);
        w.WriteEndObject();
        await w.FlushAsync().ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- create collection

    private async Task CreateAsync(HttpContext ctx, string name, long started)
    {
        using var doc = await ReadJsonAsync(ctx).ConfigureAwait(false);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Format("invalid type, expected struct CreateCollection");
        var vectors = new List<QdrantStandInVector>();
        if (root.TryGetProperty("vectors", out var vc) && vc.ValueKind != JsonValueKind.Null)
        {
            if (vc.ValueKind != JsonValueKind.Object) throw Format("`vectors`: invalid type, expected VectorsConfig");
            if (vc.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Number)
            {
                vectors.Add(ParseVectorParams("", vc));
            }
            else
            {
                foreach (var p in vc.EnumerateObject()) vectors.Add(ParseVectorParams(p.Name, p.Value));
            }
        }
        var sparse = new List<QdrantStandInSparse>();
        if (root.TryGetProperty("sparse_vectors", out var sc) && sc.ValueKind != JsonValueKind.Null)
        {
            if (sc.ValueKind != JsonValueKind.Object) throw Format("`sparse_vectors`: invalid type, expected a map");
            foreach (var p in sc.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Object) throw Format($"`sparse_vectors.{p.Name}`: invalid type, expected SparseVectorParams");
                string? modifier = null;
                if (p.Value.TryGetProperty("modifier", out var m) && m.ValueKind != JsonValueKind.Null)
                {
                    modifier = m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                    if (modifier is not ("none" or "idf")) throw Format($"unknown variant `{m}`, expected `none` or `idf`");
                }
                sparse.Add(new QdrantStandInSparse(p.Name, modifier));
            }
        }
        var error = Collection.TryCreate(name, vectors, sparse, out var collection);
        if (error is not null) throw WrongInput(error);
        if (!_collections.TryAdd(name, collection!)) throw new BadRequest(409, $"Wrong input: Collection `{name}` already exists!");
        await WriteOkAsync(ctx, started, w => w.WriteBooleanValue(true)).ConfigureAwait(false);
    }

    private static QdrantStandInVector ParseVectorParams(string name, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Format($"vector `{name}`: invalid type, expected VectorParams");
        if (!e.TryGetProperty("size", out var s) || !s.TryGetUInt64(out var size)) throw Format("missing field `size`");
        if (size == 0 || size > 65536) throw new BadRequest(422, $"Validation error in JSON body: [vectors.size: value {size} invalid, must be from 1 to 65536]");
        if (!e.TryGetProperty("distance", out var d) || d.ValueKind != JsonValueKind.String) throw Format("missing field `distance`");
        var distance = d.GetString()!;
        if (distance is not ("Cosine" or "Euclid" or "Dot" or "Manhattan"))
            throw Format($"unknown variant `{distance}`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`");
        string? datatype = null;
        if (e.TryGetProperty("datatype", out var dt) && dt.ValueKind == JsonValueKind.String)
        {
            datatype = dt.GetString();
            if (datatype is not ("float32" or "float16" or "uint8")) throw Unsupported($"datatype `{datatype}`");
        }
        var multi = e.TryGetProperty("multivector_config", out var mv) && mv.ValueKind == JsonValueKind.Object;
        return new QdrantStandInVector(name, (int)size, distance, datatype, multi);
    }

    // ---------------------------------------------------------------- upsert

    private async Task UpsertAsync(HttpContext ctx, Collection c, long started)
    {
        long bytes = 0;
        using var doc = await ReadJsonAsync(ctx, n => bytes = n).ConfigureAwait(false);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Format("data did not match any variant of untagged enum PointInsertOperations");
        var points = new List<Point>();
        if (root.TryGetProperty("points", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array) throw Format("`points`: invalid type, expected a sequence");
            var i = 0;
            foreach (var p in list.EnumerateArray())
            {
                if (p.ValueKind != JsonValueKind.Object) throw Format($"points[{i}]: invalid type, expected struct PointStruct");
                if (!p.TryGetProperty("id", out var id)) throw Format($"points[{i}]: missing field `id`");
                if (!p.TryGetProperty("vector", out var vector)) throw Format($"points[{i}]: missing field `vector`");
                var vectors = ParseVectorStruct(vector, $"points[{i}].vector");
                points.Add(MakePoint(c, ParseId(id), vectors, p.TryGetProperty("payload", out var payload) ? payload : default, $"points[{i}]"));
                i++;
            }
        }
        else if (root.TryGetProperty("batch", out var batch))
        {
            points.AddRange(ParseBatch(c, batch));
        }
        else
        {
            throw Format("data did not match any variant of untagged enum PointInsertOperations");
        }
        foreach (var key in new[] { "shard_key", "update_filter", "update_mode" })
        {
            if (root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null) throw Unsupported($"`{key}`");
        }
        var operation = c.Upsert(points);
        _upserts.Enqueue(new QdrantStandInUpsert(bytes, points.Count));
        var wait = string.Equals(ctx.Request.Query["wait"].FirstOrDefault(), "true", StringComparison.OrdinalIgnoreCase);
        await WriteOkAsync(ctx, started, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("operation_id", operation);
            w.WriteString("status", wait ? "completed" : "acknowledged");
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static IEnumerable<Point> ParseBatch(Collection c, JsonElement batch)
    {
        if (batch.ValueKind != JsonValueKind.Object) throw Format("`batch`: invalid type, expected struct Batch");
        if (!batch.TryGetProperty("ids", out var ids) || ids.ValueKind != JsonValueKind.Array) throw Format("`batch`: missing field `ids`");
        if (!batch.TryGetProperty("vectors", out var vs)) throw Format("`batch`: missing field `vectors`");
        var count = ids.GetArrayLength();
        var perPoint = new List<Dictionary<string, VectorValue>>();
        for (var i = 0; i < count; i++) perPoint.Add(new Dictionary<string, VectorValue>(StringComparer.Ordinal));
        if (vs.ValueKind == JsonValueKind.Array)
        {
            if (vs.GetArrayLength() != count) throw new BadRequest(422, "Validation error in JSON body: [batch: number of ids and vectors must be equal]");
            var i = 0;
            foreach (var v in vs.EnumerateArray()) perPoint[i].Add("", ParseVector(v, $"batch.vectors[{i++}]"));
        }
        else if (vs.ValueKind == JsonValueKind.Object)
        {
            foreach (var named in vs.EnumerateObject())
            {
                if (named.Value.ValueKind != JsonValueKind.Array || named.Value.GetArrayLength() != count)
                    throw new BadRequest(422, "Validation error in JSON body: [batch: number of ids and vectors must be equal]");
                var i = 0;
                foreach (var v in named.Value.EnumerateArray()) perPoint[i].Add(named.Name, ParseVector(v, $"batch.vectors.{named.Name}[{i++}]"));
            }
        }
        else
        {
            throw Format("`batch.vectors`: data did not match any variant of untagged enum BatchVectorStruct");
        }
        JsonElement[]? payloads = null;
        if (batch.TryGetProperty("payloads", out var ps) && ps.ValueKind != JsonValueKind.Null)
        {
            if (ps.ValueKind != JsonValueKind.Array || ps.GetArrayLength() != count)
                throw new BadRequest(422, "Validation error in JSON body: [batch: number of ids and payloads must be equal]");
            payloads = ps.EnumerateArray().ToArray();
        }
        var k = 0;
        var points = new List<Point>(count);
        foreach (var id in ids.EnumerateArray())
        {
            points.Add(MakePoint(c, ParseId(id), perPoint[k], payloads is null ? default : payloads[k], $"batch[{k}]"));
            k++;
        }
        return points;
    }

    private static Point MakePoint(Collection c, PointId id, Dictionary<string, VectorValue> vectors, JsonElement payload, string where)
    {
        var error = c.Check(vectors);
        if (error is not null) throw WrongInput(error);
        vectors = c.Preprocess(vectors);
        byte[]? bytes = null;
        if (payload.ValueKind == JsonValueKind.Object) bytes = Encoding.UTF8.GetBytes(payload.GetRawText());
        else if (payload.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null)) throw Format($"{where}.payload: invalid type, expected a map");
        return new Point(id, vectors, bytes);
    }

    private static PointId ParseId(JsonElement id)
    {
        if (id.ValueKind == JsonValueKind.Number && id.TryGetUInt64(out var n)) return PointId.FromUnsigned(n);
        if (id.ValueKind == JsonValueKind.String && Guid.TryParse(id.GetString(), out var g)) return PointId.FromUuid(g);
        throw Format($"Unable to parse point id {id.GetRawText()}: data did not match any variant of untagged enum ExtendedPointId");
    }

    /// <summary>VectorStruct: a dense array, a multivector, or a map of named vectors.</summary>
    private static Dictionary<string, VectorValue> ParseVectorStruct(JsonElement v, string where)
    {
        var vectors = new Dictionary<string, VectorValue>(StringComparer.Ordinal);
        if (v.ValueKind == JsonValueKind.Array)
        {
            vectors.Add("", ParseVector(v, where));
        }
        else if (v.ValueKind == JsonValueKind.Object)
        {
            if (v.TryGetProperty("model", out _)) throw Unsupported("inference objects (Document, Image)");
            foreach (var p in v.EnumerateObject()) vectors.Add(p.Name, ParseVector(p.Value, $"{where}.{p.Name}"));
        }
        else
        {
            throw Format($"{where}: data did not match any variant of untagged enum VectorStruct");
        }
        return vectors;
    }

    /// <summary>Vector: dense array, multivector (array of arrays) or sparse {indices, values}.</summary>
    private static VectorValue ParseVector(JsonElement v, string where)
    {
        if (v.ValueKind == JsonValueKind.Array)
        {
            if (v.GetArrayLength() > 0 && v[0].ValueKind == JsonValueKind.Array)
            {
                var rows = v.EnumerateArray().Select((row, i) => Floats(row, $"{where}[{i}]")).ToArray();
                if (rows.Any(r => r.Length != rows[0].Length)) throw new BadRequest(422, $"Validation error in JSON body: [{where}: all vectors must have the same dimension]");
                return new MultiVector(rows);
            }
            return new DenseVector(Floats(v, where));
        }
        if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("indices", out var idx) && v.TryGetProperty("values", out var vals))
        {
            if (idx.ValueKind != JsonValueKind.Array) throw Format($"{where}.indices: invalid type, expected a sequence");
            var indices = idx.EnumerateArray().Select(e => e.TryGetUInt32(out var u) ? u : throw Format($"{where}.indices: invalid value, expected u32")).ToArray();
            var values = Floats(vals, where + ".values");
            if (indices.Length != values.Length)
                throw new BadRequest(422, $"Validation error in JSON body: [{where}: must be the same length as indices]");
            if (indices.Distinct().Count() != indices.Length)
                throw new BadRequest(422, $"Validation error in JSON body: [{where}: must be unique]");
            return new SparseVector(indices, values);
        }
        throw Format($"{where}: data did not match any variant of untagged enum Vector");
    }

    private static float[] Floats(JsonElement array, string where)
    {
        if (array.ValueKind != JsonValueKind.Array) throw Format($"{where}: invalid type, expected a sequence");
        var values = new float[array.GetArrayLength()];
        var i = 0;
        foreach (var e in array.EnumerateArray())
        {
            // JsonElement.TryGetSingle parses the text straight to the nearest float32, as serde does for f32.
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetSingle(out var f) || !float.IsFinite(f))
                throw Format($"{where}[{i}]: invalid type: {e.ValueKind}, expected f32");
            values[i++] = f;
        }
        return values;
    }

    private static Dictionary<string, VectorValue> SortSparse(Dictionary<string, VectorValue> vectors)
    {
        // Qdrant stores sparse vectors sorted by index (VectorInternal::preprocess) and returns them so.
        foreach (var (name, value) in vectors.ToArray())
        {
            if (value is SparseVector s && !s.Indices.AsSpan().SequenceEqual(s.Indices.Order().ToArray()))
            {
                var indices = (uint[])s.Indices.Clone();
                var values = (float[])s.Values.Clone();
                Array.Sort(indices, values);
                vectors[name] = new SparseVector(indices, values);
            }
        }
        return vectors;
    }

    // ---------------------------------------------------------------- scroll

    private async Task ScrollAsync(HttpContext ctx, Collection c, long started)
    {
        using var doc = await ReadJsonAsync(ctx).ConfigureAwait(false);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Format("invalid type, expected struct ScrollRequest");
        _scrollBodies.Enqueue(root.GetRawText());
        Interlocked.Increment(ref _scrolls);

        PointId? offset = null;
        if (root.TryGetProperty("offset", out var o) && o.ValueKind != JsonValueKind.Null) offset = ParseId(o);
        var limit = Limit(root); // Qdrant's default page is 10
        Filter? filter = null;
        if (root.TryGetProperty("filter", out var f) && f.ValueKind != JsonValueKind.Null) filter = Filter.Parse(f, "filter");
        var payload = PayloadSelection.Parse(root.TryGetProperty("with_payload", out var wp) ? wp : default);
        var vectorNames = VectorSelection(c, root.TryGetProperty("with_vector", out var wv) ? wv
            : root.TryGetProperty("with_vectors", out wv) ? wv : default);
        foreach (var key in new[] { "order_by", "shard_key" })
        {
            if (root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null) throw Unsupported($"`{key}`");
        }

        var (page, next) = c.Scroll(offset, limit, filter is null ? null : filter.Matches);
        Interlocked.Add(ref _pointsServed, page.Count);

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        // Stream big pages instead of building them (256 points of 1,024 dims are ~3 MB of text), through a small
        // buffer of our own: written straight into Kestrel's pipe, a point's 12 KB vector text would not fit its
        // 4 KB blocks and Kestrel would allocate a fresh array for every point.
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        await using var w = new Utf8JsonWriter(buffer, WriterOptions);
        w.WriteStartObject();
        w.WriteStartObject("result");
        w.WriteStartArray("points");
        foreach (var p in page)
        {
            WritePoint(w, c, p, payload, vectorNames);
            if (buffer.WrittenCount + w.BytesPending > 32 * 1024) await SendAsync().ConfigureAwait(false);
        }
        w.WriteEndArray();
        w.WritePropertyName("next_page_offset");
        if (next is { } n) WriteId(w, n);
        else w.WriteNullValue();
        w.WriteEndObject();
        WriteTail(w, started);
        await SendAsync().ConfigureAwait(false);

        async Task SendAsync()
        {
            w.Flush();
            await ctx.Response.BodyWriter.WriteAsync(buffer.WrittenMemory, ctx.RequestAborted).ConfigureAwait(false);
            buffer.ResetWrittenCount();
        }
    }

    /// <summary>How many query requests were answered.</summary>
    public int QueryRequests => Volatile.Read(ref _queries);

    private int _queries;

    /// <summary>
    /// The Query API with a dense vector (<c>query</c> as an array, <c>using</c>, <c>filter</c>, <c>params.exact</c>,
    /// <c>limit</c> default 10, <c>with_payload</c>/<c>with_vector</c> false): every point compared, so exact whether
    /// or not <c>exact</c> is asked (the stand-in has no HNSW index). As Qdrant does (lib/segment spaces/simple.rs):
    /// a Cosine query is preprocessed like stored vectors, then scored by dot product; Dot by dot product; Euclid
    /// ranks by the negated squared distance and answers its square root (postprocess); Manhattan ranks by the
    /// negated L1 distance and answers its absolute value; float32 arithmetic throughout. Best first; equal scores
    /// in id order (Qdrant leaves ties unspecified). Points without the vector are left out.
    /// </summary>
    private async Task QueryAsync(HttpContext ctx, Collection c, long started)
    {
        using var doc = await ReadJsonAsync(ctx).ConfigureAwait(false);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Format("invalid type, expected struct QueryRequestInternal");
        Interlocked.Increment(ref _queries);
        foreach (var key in new[] { "prefetch", "score_threshold", "offset", "lookup_from", "shard_key", "lookup", "group_by" })
        {
            if (root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null) throw Unsupported($"`{key}` in a query");
        }
        if (!root.TryGetProperty("query", out var q) || q.ValueKind != JsonValueKind.Array) throw Unsupported("queries other than a dense vector");
        var query = new float[q.GetArrayLength()];
        var i = 0;
        foreach (var x in q.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number) throw Format("`query`: data did not match any variant of untagged enum QueryInterface");
            query[i++] = x.GetSingle();
        }
        var name = root.TryGetProperty("using", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : "";
        var space = c.Dense.FirstOrDefault(d => d.Name == name);
        if (space is null) throw WrongInput($"Not existing vector name error: {name}");
        if (space.Multivector) throw Unsupported("a dense query against a multivector");
        if (query.Length != space.Size) throw WrongInput($"Vector dimension error: expected dim: {space.Size}, got {query.Length}");
        var limit = Limit(root);
        Filter? filter = null;
        if (root.TryGetProperty("filter", out var f) && f.ValueKind != JsonValueKind.Null) filter = Filter.Parse(f, "filter");
        foreach (var key in new[] { "with_payload", "with_vector" })
        {
            if (root.TryGetProperty(key, out var v) && v.ValueKind is not (JsonValueKind.False or JsonValueKind.Null)) throw Unsupported($"`{key}` in a query");
        }
        if (space.Distance == "Cosine") query = Collection.CosinePreprocess(query);

        var scored = new List<(Point Point, float Rank, float Score)>();
        foreach (var p in c.Snapshot())
        {
            if (filter is not null && !filter.Matches(p)) continue;
            if (!p.Vectors.TryGetValue(name, out var value) || value is not DenseVector d) continue;
            float rank, score;
            switch (space.Distance)
            {
                case "Euclid":
                    var sq = 0f;
                    for (var k = 0; k < query.Length; k++) sq += (query[k] - d.Values[k]) * (query[k] - d.Values[k]);
                    (rank, score) = (-sq, MathF.Sqrt(sq));
                    break;
                case "Manhattan":
                    var l1 = 0f;
                    for (var k = 0; k < query.Length; k++) l1 += MathF.Abs(query[k] - d.Values[k]);
                    (rank, score) = (-l1, l1);
                    break;
                default:
                    // Real Qdrant holds Cosine vectors normalized; points seeded as given (test data) are normalized
                    // here, which leaves an already normalized vector as it is.
                    var stored = space.Distance == "Cosine" ? Collection.CosinePreprocess(d.Values) : d.Values;
                    var dot = 0f;
                    for (var k = 0; k < query.Length; k++) dot += query[k] * stored[k];
                    (rank, score) = (dot, dot);
                    break;
            }
            scored.Add((p, rank, score));
        }
        var best = scored.OrderByDescending(h => h.Rank).ThenBy(h => h.Point.Id).Take(limit).ToList();
        await WriteOkAsync(ctx, started, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("points");
            foreach (var (p, _, score) in best)
            {
                w.WriteStartObject();
                w.WritePropertyName("id");
                WriteId(w, p.Id);
                w.WriteNumber("version", 0);
                w.WriteNumber("score", score);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary><c>limit</c> of a scroll or query: 10 when absent, at least 1.</summary>
    private static int Limit(JsonElement root)
    {
        if (!root.TryGetProperty("limit", out var l) || l.ValueKind == JsonValueKind.Null) return 10;
        if (l.ValueKind != JsonValueKind.Number || !l.TryGetUInt64(out var requested)) throw Format("`limit`: invalid type, expected usize");
        if (requested == 0) throw new BadRequest(422, "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]");
        return (int)Math.Min(requested, int.MaxValue - 1);
    }

    /// <summary>with_vector: false (default) → none, true → all, [names] → those (each must exist).</summary>
    private static string[] VectorSelection(Collection c, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.False:
                return [];
            case JsonValueKind.True:
                return c.VectorNames;
            case JsonValueKind.Array:
                var names = new List<string>();
                foreach (var n in e.EnumerateArray())
                {
                    if (n.ValueKind != JsonValueKind.String) throw Format("`with_vector`: data did not match any variant of untagged enum WithVector");
                    var name = n.GetString()!;
                    if (!c.VectorNames.Contains(name)) throw WrongInput($"Not existing vector name error: {name}");
                    names.Add(name);
                }
                return c.VectorNames.Where(names.Contains).ToArray(); // Qdrant answers in its own order
            default:
                throw Format("`with_vector`: data did not match any variant of untagged enum WithVector");
        }
    }

    private static void WriteId(Utf8JsonWriter w, PointId id)
    {
        if (id.Kind == PointIdKind.Unsigned) w.WriteNumberValue(id.AsUnsigned);
        else w.WriteStringValue(id.AsUuid.ToString("D"));
    }

    private void WritePoint(Utf8JsonWriter w, Collection c, Point p, PayloadSelection payload, string[] vectorNames)
    {
        w.WriteStartObject();
        w.WritePropertyName("id");
        WriteId(w, p.Id);
        if (payload.Enabled)
        {
            w.WritePropertyName("payload");
            if (p.Payload is null) w.WriteRawValue("{}"u8, skipInputValidation: true);
            else if (payload.IsAll) w.WriteRawValue(p.Payload, skipInputValidation: true);
            else payload.Apply(p.Payload).WriteTo(w);
        }
        if (vectorNames.Length > 0)
        {
            w.WritePropertyName("vector");
            // Qdrant answers a point whose only vector (of those asked for) is the unnamed one with the bare value,
            // and any other point with a map by name, "" naming the unnamed vector (VectorStructInternal::from).
            var shown = vectorNames.Count(p.Vectors.ContainsKey);
            if (shown == 1 && vectorNames.Contains("") && p.Vectors.TryGetValue("", out var unnamed))
            {
                WriteVector(w, unnamed);
            }
            else
            {
                w.WriteStartObject();
                foreach (var name in vectorNames)
                {
                    if (!p.Vectors.TryGetValue(name, out var v)) continue; // a point may lack a named vector
                    w.WritePropertyName(name);
                    WriteVector(w, v);
                }
                w.WriteEndObject();
            }
        }
        w.WriteEndObject();
    }

    private void WriteVector(Utf8JsonWriter w, VectorValue v)
    {
        if (_rendered.TryGetValue(v, out var text)) w.WriteRawValue(text, skipInputValidation: true);
        else WriteVectorText(w, v);
    }

    private static byte[] Render(VectorValue v)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions)) WriteVectorText(w, v);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteVectorText(Utf8JsonWriter w, VectorValue v)
    {
        switch (v)
        {
            case DenseVector d:
                WriteFloats(w, d.Values);
                break;
            case MultiVector m:
                w.WriteStartArray();
                foreach (var row in m.Vectors) WriteFloats(w, row);
                w.WriteEndArray();
                break;
            case SparseVector s:
                w.WriteStartObject();
                w.WriteStartArray("indices");
                foreach (var i in s.Indices) w.WriteNumberValue(i);
                w.WriteEndArray();
                w.WritePropertyName("values");
                WriteFloats(w, s.Values);
                w.WriteEndObject();
                break;
        }
    }

    private static void WriteFloats(Utf8JsonWriter w, float[] values)
    {
        w.WriteStartArray();
        // Utf8JsonWriter writes a float32 as its shortest round-trip text (like Rust's ryu in serde_json).
        foreach (var f in values) w.WriteNumberValue(f);
        w.WriteEndArray();
    }

    // ---------------------------------------------------------------- payload selection and filters

    private sealed class PayloadSelection
    {
        private PayloadSelection(bool enabled, string[]? include, string[]? exclude)
        {
            Enabled = enabled;
            Include = include;
            Exclude = exclude;
        }

        public bool Enabled { get; }
        public string[]? Include { get; }
        public string[]? Exclude { get; }
        public bool IsAll => Include is null && Exclude is null;

        /// <summary>with_payload: true (default), false, [fields], {"include": [..]} or {"exclude": [..]}.</summary>
        public static PayloadSelection Parse(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.True => new(true, null, null),
            JsonValueKind.False => new(false, null, null),
            JsonValueKind.Array => new(true, Strings(e), null),
            JsonValueKind.Object when e.TryGetProperty("include", out var inc) => new(true, Strings(inc), null),
            JsonValueKind.Object when e.TryGetProperty("exclude", out var exc) => new(true, null, Strings(exc)),
            _ => throw Format("`with_payload`: data did not match any variant of untagged enum WithPayloadInterface"),
        };

        private static string[] Strings(JsonElement e) => e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String)
            ? e.EnumerateArray().Select(x => x.GetString()!).ToArray()
            : throw Format("`with_payload`: expected a list of payload keys");

        public JsonObject Apply(byte[] payload)
        {
            var node = JsonNode.Parse(payload)!.AsObject();
            var result = new JsonObject();
            foreach (var (key, value) in node)
            {
                var keep = Include is not null ? Include.Contains(key) : !Exclude!.Contains(key);
                if (keep) result[key] = value?.DeepClone();
            }
            return result;
        }
    }

    /// <summary>Qdrant's Filter (deny_unknown_fields): must / should / must_not / min_should.</summary>
    private sealed class Filter
    {
        private readonly List<Func<Point, bool>> _must = [], _should = [], _mustNot = [];

        public static Filter Parse(JsonElement e, string where)
        {
            if (e.ValueKind != JsonValueKind.Object) throw Format($"`{where}`: invalid type, expected struct Filter");
            var filter = new Filter();
            foreach (var p in e.EnumerateObject())
            {
                var list = p.Name switch
                {
                    "must" => filter._must,
                    "should" => filter._should,
                    "must_not" => filter._mustNot,
                    "min_should" => throw Unsupported("`min_should`"),
                    _ => throw Format($"unknown field `{p.Name}`, expected one of `should`, `min_should`, `must`, `must_not`"),
                };
                if (p.Value.ValueKind == JsonValueKind.Null) continue;
                if (p.Value.ValueKind == JsonValueKind.Array)
                {
                    foreach (var c in p.Value.EnumerateArray()) list.Add(Condition(c));
                }
                else
                {
                    list.Add(Condition(p.Value));
                }
            }
            return filter;
        }

        public bool Matches(Point p) =>
            _must.All(c => c(p)) && (_should.Count == 0 || _should.Any(c => c(p))) && !_mustNot.Any(c => c(p));

        private static Func<Point, bool> Condition(JsonElement c)
        {
            if (c.ValueKind != JsonValueKind.Object) throw Format("data did not match any variant of untagged enum Condition");
            if (c.TryGetProperty("has_id", out var ids))
            {
                if (ids.ValueKind != JsonValueKind.Array) throw Format("`has_id`: invalid type, expected a sequence");
                var set = ids.EnumerateArray().Select(ParseId).ToHashSet();
                return p => set.Contains(p.Id);
            }
            if (c.TryGetProperty("key", out var key))
            {
                foreach (var p in c.EnumerateObject())
                {
                    if (p.Name is "key" or "match") continue;
                    if (p.Value.ValueKind != JsonValueKind.Null) throw Unsupported($"the field condition `{p.Name}`");
                }
                if (key.ValueKind != JsonValueKind.String) throw Format("`key`: invalid type, expected a string");
                if (!c.TryGetProperty("match", out var match) || match.ValueKind != JsonValueKind.Object)
                    throw new BadRequest(422, "Validation error in JSON body: [filter: At least one field condition must be specified]");
                if (!match.TryGetProperty("value", out var value)) throw Unsupported("match conditions other than `value`");
                if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
                    throw Format("`match.value`: data did not match any variant of untagged enum ValueVariants");
                var path = key.GetString()!.Split('.');
                var wanted = value.Clone();
                return p => p.Payload is not null && MatchesValue(p.Payload, path, wanted);
            }
            if (c.TryGetProperty("must", out _) || c.TryGetProperty("should", out _) || c.TryGetProperty("must_not", out _))
            {
                var nested = Parse(c, "filter");
                return nested.Matches;
            }
            if (c.TryGetProperty("is_empty", out _) || c.TryGetProperty("is_null", out _) || c.TryGetProperty("has_vector", out _) || c.TryGetProperty("nested", out _))
                throw Unsupported("this condition");
            throw Format("data did not match any variant of untagged enum Condition");
        }

        internal static bool MatchesValue(byte[] payload, string[] path, JsonElement wanted)
        {
            using var doc = JsonDocument.Parse(payload);
            var e = doc.RootElement;
            foreach (var step in path)
            {
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(step, out e)) return false;
            }
            // A payload array matches when any of its elements does.
            return e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().Any(x => Same(x, wanted)) : Same(e, wanted);
        }

        private static bool Same(JsonElement have, JsonElement wanted) => wanted.ValueKind switch
        {
            JsonValueKind.String => have.ValueKind == JsonValueKind.String && have.GetString() == wanted.GetString(),
            JsonValueKind.Number => have.ValueKind == JsonValueKind.Number && have.TryGetInt64(out var a) && wanted.TryGetInt64(out var b) && a == b,
            _ => have.ValueKind == wanted.ValueKind,
        };
    }

    // ---------------------------------------------------------------- storage

    private sealed record Point(PointId Id, Dictionary<string, VectorValue> Vectors, byte[]? Payload);

    private sealed class Collection
    {
        private readonly object _gate = new();
        private readonly Dictionary<PointId, Point> _points = new();
        private PointId[]? _sorted; // rebuilt after writes
        private long _operation;

        private Collection(string name, IReadOnlyList<QdrantStandInVector> dense, IReadOnlyList<QdrantStandInSparse> sparse)
        {
            Name = name;
            Dense = dense;
            Sparse = sparse;
            Unnamed = dense.Count == 1 && dense[0].Name.Length == 0;
            VectorNames = dense.Select(d => d.Name).Concat(sparse.Select(s => s.Name)).ToArray();
        }

        public string Name { get; }
        public IReadOnlyList<QdrantStandInVector> Dense { get; }
        public IReadOnlyList<QdrantStandInSparse> Sparse { get; }
        public bool Unnamed { get; }
        public string[] VectorNames { get; }

        public int Count
        {
            get { lock (_gate) return _points.Count; }
        }

        public static string? TryCreate(string name, IReadOnlyList<QdrantStandInVector> dense, IReadOnlyList<QdrantStandInSparse> sparse, out Collection? collection)
        {
            collection = null;
            if (string.IsNullOrEmpty(name) || name.Length > 255 || name.IndexOfAny(['/', '\\', '\0']) >= 0)
                return $"Collection name `{name}` is not valid";
            if (dense.Count > 1 && dense.Any(d => d.Name.Length == 0)) return "an unnamed vector cannot sit beside named ones";
            if (sparse.Any(s => s.Name.Length == 0)) return "a sparse vector needs a name";
            var names = dense.Select(d => d.Name).Concat(sparse.Select(s => s.Name)).ToList();
            if (names.Distinct(StringComparer.Ordinal).Count() != names.Count) return "vector names must be unique";
            if (dense.Any(d => d.Size < 1)) return "vector size must be at least 1";
            collection = new Collection(name, dense, sparse);
            return null;
        }

        /// <summary>Null when the vectors fit the config; else Qdrant's wording of what does not.</summary>
        public string? Check(Dictionary<string, VectorValue> vectors)
        {
            foreach (var (name, value) in vectors)
            {
                var dense = Dense.FirstOrDefault(d => d.Name == name);
                var sparse = Sparse.FirstOrDefault(s => s.Name == name);
                if (dense is null && sparse is null) return $"Not existing vector name error: {name}";
                switch (value)
                {
                    case DenseVector d when dense is { Multivector: false }:
                        if (d.Values.Length != dense.Size) return $"Vector dimension error: expected dim: {dense.Size}, got {d.Values.Length}";
                        break;
                    case MultiVector m when dense is { Multivector: true }:
                        if (m.Vectors.Length == 0) return "multivectors must have at least one vector";
                        foreach (var row in m.Vectors)
                        {
                            if (row.Length != dense.Size) return $"Vector dimension error: expected dim: {dense.Size}, got {row.Length}";
                        }
                        break;
                    case SparseVector when sparse is not null:
                        break;
                    default:
                        return $"Conversion between {value.Kind} and the {(sparse is not null ? "sparse" : dense!.Multivector ? "multi" : "dense")} vector `{name}` is not possible";
                }
            }
            return null;
        }

        /// <summary>What Qdrant does to vectors before it stores them: Cosine spaces normalized, sparse vectors sorted.</summary>
        public Dictionary<string, VectorValue> Preprocess(Dictionary<string, VectorValue> vectors)
        {
            vectors = SortSparse(vectors);
            foreach (var (name, value) in vectors.ToArray())
            {
                var space = Dense.FirstOrDefault(d => d.Name == name);
                if (space is null || space.Distance != "Cosine") continue;
                vectors[name] = value switch
                {
                    DenseVector d => new DenseVector(CosinePreprocess(d.Values)),
                    MultiVector m => new MultiVector(m.Vectors.Select(CosinePreprocess).ToArray()), // each row on its own
                    _ => value,
                };
            }
            return vectors;
        }

        /// <summary>Qdrant's portable <c>cosine_preprocess</c>, in float32 throughout.</summary>
        internal static float[] CosinePreprocess(float[] vector)
        {
            var length = 0f;
            foreach (var x in vector) length += x * x;
            // is_length_zero_or_normalized: f32::EPSILON is 2^-23 (not .NET's float.Epsilon).
            if (length < 1.1920929e-7f || MathF.Abs(length - 1f) <= 1e-6f) return (float[])vector.Clone();
            length = MathF.Sqrt(length);
            var result = new float[vector.Length];
            for (var i = 0; i < vector.Length; i++) result[i] = vector[i] / length;
            return result;
        }

        public bool Remove(PointId id)
        {
            lock (_gate)
            {
                _sorted = null;
                return _points.Remove(id);
            }
        }

        public long Upsert(IReadOnlyList<Point> points)
        {
            lock (_gate)
            {
                foreach (var p in points) _points[p.Id] = p; // an upsert replaces the whole point
                _sorted = null;
                return _operation++;
            }
        }

        public List<Point> Snapshot()
        {
            lock (_gate) return Sorted().Select(id => _points[id]).ToList();
        }

        /// <summary>Qdrant's scroll: limit + 1 matching points from offset (inclusive); the extra one's id is next_page_offset.</summary>
        public (List<Point> Page, PointId? Next) Scroll(PointId? offset, int limit, Func<Point, bool>? filter)
        {
            lock (_gate)
            {
                var ids = Sorted();
                var start = 0;
                if (offset is { } o)
                {
                    start = Array.BinarySearch(ids, o);
                    if (start < 0) start = ~start;
                }
                var page = new List<Point>(Math.Min(limit, 1024));
                for (var i = start; i < ids.Length; i++)
                {
                    var p = _points[ids[i]];
                    if (filter is not null && !filter(p)) continue;
                    if (page.Count == limit) return (page, p.Id);
                    page.Add(p);
                }
                return (page, null);
            }
        }

        private PointId[] Sorted()
        {
            if (_sorted is null)
            {
                _sorted = _points.Keys.ToArray();
                Array.Sort(_sorted); // PointId orders as Qdrant: integers, then UUIDs by their bytes
            }
            return _sorted;
        }

        /// <summary>What <see cref="WriteInfo"/> says, as qdrant.Collections/Get's <c>CollectionInfo</c>.</summary>
        public Qdrant.Client.Grpc.CollectionInfo GrpcInfo()
        {
            static Qdrant.Client.Grpc.VectorParams Params(QdrantStandInVector d)
            {
                var p = new Qdrant.Client.Grpc.VectorParams { Size = (ulong)d.Size, Distance = Enum.Parse<Qdrant.Client.Grpc.Distance>(d.Distance) };
                if (d.Datatype is { } dt) p.Datatype = Enum.Parse<Qdrant.Client.Grpc.Datatype>(dt, ignoreCase: true);
                if (d.Multivector) p.MultivectorConfig = new Qdrant.Client.Grpc.MultiVectorConfig { Comparator = Qdrant.Client.Grpc.MultiVectorComparator.MaxSim };
                return p;
            }
            var prms = new Qdrant.Client.Grpc.CollectionParams { ShardNumber = 1, ReplicationFactor = 1, WriteConsistencyFactor = 1 };
            if (Unnamed)
            {
                prms.VectorsConfig = new Qdrant.Client.Grpc.VectorsConfig { Params = Params(Dense[0]) };
            }
            else
            {
                var map = new Qdrant.Client.Grpc.VectorParamsMap();
                foreach (var d in Dense) map.Map[d.Name] = Params(d);
                prms.VectorsConfig = new Qdrant.Client.Grpc.VectorsConfig { ParamsMap = map };
            }
            if (Sparse.Count > 0)
            {
                prms.SparseVectorsConfig = new Qdrant.Client.Grpc.SparseVectorConfig();
                foreach (var s in Sparse)
                {
                    var p = new Qdrant.Client.Grpc.SparseVectorParams();
                    if (s.Modifier is { } m) p.Modifier = Enum.Parse<Qdrant.Client.Grpc.Modifier>(m, ignoreCase: true);
                    prms.SparseVectorsConfig.Map[s.Name] = p;
                }
            }
            return new Qdrant.Client.Grpc.CollectionInfo
            {
                Status = Qdrant.Client.Grpc.CollectionStatus.Green,
                OptimizerStatus = new Qdrant.Client.Grpc.OptimizerStatus { Ok = true },
                SegmentsCount = 1,
                PointsCount = (ulong)Count,
                IndexedVectorsCount = 0,
                Config = new Qdrant.Client.Grpc.CollectionConfig
                {
                    Params = prms,
                    HnswConfig = new Qdrant.Client.Grpc.HnswConfigDiff { M = 16, EfConstruct = 100, FullScanThreshold = 10000, MaxIndexingThreads = 0 },
                    OptimizerConfig = new Qdrant.Client.Grpc.OptimizersConfigDiff { DeletedThreshold = 0.2, VacuumMinVectorNumber = 1000, DefaultSegmentNumber = 0, IndexingThreshold = 10000, FlushIntervalSec = 5 },
                    WalConfig = new Qdrant.Client.Grpc.WalConfigDiff { WalCapacityMb = 32, WalSegmentsAhead = 0 },
                },
            };
        }

        public void WriteInfo(Utf8JsonWriter w)
        {
            int count;
            lock (_gate) count = _points.Count;
            w.WriteStartObject();
            w.WriteString("status", "green");
            w.WriteString("optimizer_status", "ok");
            w.WriteNumber("indexed_vectors_count", 0);
            w.WriteNumber("points_count", count);
            w.WriteNumber("segments_count", 1);
            w.WriteStartObject("config");
            w.WriteStartObject("params");
            w.WritePropertyName("vectors");
            if (Unnamed)
            {
                WriteParams(w, Dense[0]);
            }
            else
            {
                w.WriteStartObject();
                foreach (var d in Dense)
                {
                    w.WritePropertyName(d.Name);
                    WriteParams(w, d);
                }
                w.WriteEndObject();
            }
            w.WriteNumber("shard_number", 1);
            w.WriteNumber("replication_factor", 1);
            w.WriteNumber("write_consistency_factor", 1);
            w.WriteBoolean("on_disk_payload", true);
            if (Sparse.Count > 0)
            {
                w.WriteStartObject("sparse_vectors");
                foreach (var s in Sparse)
                {
                    w.WriteStartObject(s.Name);
                    if (s.Modifier is not null) w.WriteString("modifier", s.Modifier);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject(); // params
            w.WriteStartObject("hnsw_config");
            w.WriteNumber("m", 16);
            w.WriteNumber("ef_construct", 100);
            w.WriteNumber("full_scan_threshold", 10000);
            w.WriteNumber("max_indexing_threads", 0);
            w.WriteBoolean("on_disk", false);
            w.WriteEndObject();
            w.WriteStartObject("optimizer_config");
            w.WriteNumber("deleted_threshold", 0.2);
            w.WriteNumber("vacuum_min_vector_number", 1000);
            w.WriteNumber("default_segment_number", 0);
            w.WriteNull("max_segment_size");
            w.WriteNull("memmap_threshold");
            w.WriteNumber("indexing_threshold", 10000);
            w.WriteNumber("flush_interval_sec", 5);
            w.WriteNull("max_optimization_threads");
            w.WriteEndObject();
            w.WriteStartObject("wal_config");
            w.WriteNumber("wal_capacity_mb", 32);
            w.WriteNumber("wal_segments_ahead", 0);
            w.WriteEndObject();
            w.WriteNull("quantization_config");
            w.WriteStartObject("strict_mode_config");
            w.WriteBoolean("enabled", false);
            w.WriteEndObject();
            w.WriteEndObject(); // config
            w.WriteStartObject("payload_schema");
            w.WriteEndObject();
            w.WriteEndObject();
        }

        private static void WriteParams(Utf8JsonWriter w, QdrantStandInVector d)
        {
            w.WriteStartObject();
            w.WriteNumber("size", d.Size);
            w.WriteString("distance", d.Distance);
            if (d.Datatype is not null) w.WriteString("datatype", d.Datatype);
            if (d.Multivector)
            {
                w.WriteStartObject("multivector_config");
                w.WriteString("comparator", "max_sim");
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync().ConfigureAwait(false);
        if (_grpcHost is not null) await _grpcHost.DisposeAsync().ConfigureAwait(false);
    }
}
